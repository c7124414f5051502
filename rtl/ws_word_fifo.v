// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream word FIFO
 *
 * Sits between the bus and ws_bit_aligner.  The bus writes at most one
 * B-bit word per cycle, whenever the FIFO is not full; the reader sees the
 * M oldest words at once (head word j = the j-th oldest) and may take any
 * number 0..M of the present ones per cycle.  Each word keeps its `last`
 * flag.
 *
 * Micro-architecture (block RAM storage, registered head):
 *
 *   bus -+-> M banks (block RAM) --1 read cycle--> read registers -+
 *        |                                                         v
 *        +---------------- bypass ----------------------------> head queue
 *                                                  (HQ = 3M registers)
 *
 * - Banks: M memories of BD = ceil(DEPTH/M) words of B bits, each with one
 *   write port and one synchronous read port (the read data register has
 *   no reset and no enable), so that they map to block RAM.  The words
 *   that go through the banks are stored round robin: banked word i in
 *   bank i mod M, at row i div M (mod BD).  Write and read positions are
 *   (row, bank) counter pairs, so M need not be a power of two.  The M
 *   oldest banked words always lie in M different banks: every cycle all
 *   banks read their slot of the next M banked words, and k of them
 *   (k = min(M, banked words, free head slots not yet claimed by reads in
 *   flight), from registered state only) are taken; they wait one cycle in
 *   the banks' read registers ("in flight") and enter the head queue at
 *   the next clock edge.
 * - The `last` flag is not stored in the banks: only the newest word held
 *   can carry it, so the last of the k words read is flagged when the
 *   final word has been written and the read empties the banks.
 * - Head queue: HQ = 3M word registers, oldest in slot 0; slots 0..M-1
 *   drive m_data_o / m_last_o and a thermometer register m_valid_o
 *   directly.  Next state: (held words, then the in-flight words, then a
 *   bypassed bus word) computed from registered state and the bus word,
 *   shifted down by m_pop_i, which arrives late and only selects that
 *   last (M+1)-way shift.  3M slots let the head deliver M words every
 *   cycle at steady state: M presented, M in flight, M being read.
 * - Bypass: a bus word goes straight into the head queue when the banks
 *   hold no word, no read is in flight and the head queue has a free slot
 *   (registered state only); otherwise it is written to the banks.
 *
 * Latency from the write (the handshake cycle) to the word being visible
 * at the head: 1 cycle through the bypass (the FIFO held no banked word),
 * 3 cycles through the banks (write; read; read register -> head queue),
 * later only if the head queue is full.
 *
 * The write ready is computed from registered state only:
 *   s_ready_o = en_i & ~last_seen & (held < DEPTH)
 * where held counts the words in the banks, in flight and in the head
 * queue.  en_i must itself come from registered state of the consumer.
 * Once the word flagged last has been written, no further word is
 * accepted (so the last-flagged word is always the newest one held).  A
 * word taken in a cycle frees its place for the next cycle's write (the
 * ready does not look at this cycle's pop).
 *
 * clear_i empties the FIFO (banks, reads in flight and head queue) and
 * forgets the last word; it overrides a write in the same cycle (that word
 * belonged to the dropped layer).
 *
 * DEPTH (the capacity in words) must be a power of two, at least 2 and at
 * least M.  The banks and the head queue data registers have no reset
 * (a word is only presented once written).
 */
module ws_word_fifo #(
    // word width in bits
    parameter integer B     = 64,
    // capacity in words (a power of two, >= 2, >= M)
    parameter integer DEPTH = 128,
    // head words presented to the reader, the most it may take per cycle
    parameter integer M     = 3
) (
    // clock
    input  wire                       clk,
    // synchronous active-high reset
    input  wire                       rst,

    // empty the FIFO and forget the last word (start of a layer)
    input  wire                       clear_i,
    // word intake enable; must be driven from registered state
    input  wire                       en_i,

    // bus word input: data (stream bit j*B + i in bit i)
    input  wire [B-1:0]               s_data_i,
    // bus word input: valid
    input  wire                       s_valid_i,
    // bus word input: this is the final word of the layer
    input  wire                       s_last_i,
    // bus word input: ready (registered state only)
    output wire                       s_ready_o,

    // head words: word j (the j-th oldest held) in bits [j*B +: B] (registers)
    output wire [M*B-1:0]             m_data_o,
    // head words: word j is present (thermometer code, a register)
    output wire [M-1:0]               m_valid_o,
    // head words: word j is the final word of the layer (registers)
    output wire [M-1:0]               m_last_o,
    // head words: number taken this cycle (0..M, only present ones; may
    // arrive late, drives next-state logic only)
    input  wire [$clog2(M+1)-1:0]     m_pop_i,

    // status: no word held (banks, reads in flight, head queue)
    output wire                       empty_o
);

// words per bank
localparam integer BD  = (DEPTH + M - 1) / M;
// bank row address width
localparam integer BAW = BD > 1 ? $clog2(BD) : 1;
// bank index width
localparam integer KW  = M > 1 ? $clog2(M) : 1;
// head queue slots
localparam integer HQ  = 3 * M;
// head word count width (pop, in-flight count)
localparam integer PW  = $clog2(M + 1);
// width of the word counters (held, banked, head queue)
localparam integer NW  = $clog2(DEPTH + HQ + 1);


localparam [NW-1:0]  DEPTH_N  = DEPTH[NW-1:0];
localparam [NW-1:0]  HQ_N     = HQ[NW-1:0];
localparam [NW-1:0]  M_N      = M[NW-1:0];
localparam integer BD_LAST_I = BD - 1;
localparam integer M_LAST_I  = M - 1;
localparam [BAW-1:0] ROW_LAST  = BD_LAST_I[BAW-1:0];
localparam [KW-1:0]  BANK_LAST = M_LAST_I[KW-1:0];

// parameter checks
generate
    if (B < 1 || M < 1 || DEPTH < 2 || DEPTH < M || (DEPTH & (DEPTH - 1)) != 0) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_word_fifo: need B, M >= 1 and DEPTH a power of two >= max(2, M)");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// write position of the next banked word, read position of the oldest
reg [KW-1:0]  wbank_q, wbank_d;
reg [BAW-1:0] wrow_q, wrow_d;
reg [KW-1:0]  rbank_q, rbank_d;
reg [BAW-1:0] rrow_q, rrow_d;
reg [NW-1:0]  bcnt_q, bcnt_d;   // words in the banks (not yet read)
reg [PW-1:0]  infl_q, infl_d;   // words in flight (in the read registers)
reg [KW-1:0]  fbank_q, fbank_d; // bank of the oldest word in flight
reg           flast_q, flast_d; // the newest word in flight is the last word
reg [NW-1:0]  hcnt_q, hcnt_d;   // words in the head queue
reg [M-1:0]   hval_q, hval_d;   // head slot j < hcnt (m_valid_o)
reg [NW-1:0]  held_q, held_d;   // all words held
reg           seen_q, seen_d;   // the last-flagged word has been written

reg [NW-1:0]  room;             // head slots not yet claimed by words in flight
reg [NW-1:0]  take;             // banked words read this cycle
reg [NW-1:0]  rsum;             // read bank + take
reg [BAW-1:0] wrow_n;           // wrow_q + 1 (mod BD)
reg [BAW-1:0] rrow_n;           // rrow_q + 1 (mod BD)
integer       i;

wire [NW-1:0] infl_n = {{(NW-PW){1'b0}}, infl_q};
wire [NW-1:0] pop_n  = {{(NW-PW){1'b0}}, m_pop_i};

wire          push     = s_valid_i && s_ready_o && !clear_i;
wire          bypass   = (bcnt_q == {NW{1'b0}}) && (infl_q == {PW{1'b0}}) && (hcnt_q != HQ_N);
wire          push_mem = push && !bypass;
wire          push_hq  = push && bypass;

// bank read registers, bank b in bits [b*B +: B]
wire [M*B-1:0]        rd_all;
// Words and their last flags travel in separate vectors, each word at a
// multiple of B: the same bits and multiplexers as a (B+1)-bit record, but
// a simulator moves whole machine words instead of shifting every slot.
// words entering the head queue behind the held ones, and their flags
wire [M*B-1:0]        arr;
wire [M-1:0]          arr_last;
// head queue next-state sources before the pop
wire [(HQ+M)*B-1:0]   ext;
wire [HQ+M-1:0]       ext_last;
// head queue registers, slot j in bits [j*B +: B], its flag in bit j
wire [HQ*B-1:0]       hq_w;
wire [HQ-1:0]         hq_last;

assign s_ready_o = en_i && !seen_q && (held_q != DEPTH_N);
assign empty_o   = (held_q == {NW{1'b0}});
assign m_valid_o = hval_q;

genvar j;

// storage banks: one write port, one synchronous read port each
generate
    for (j = 0; j < M; j = j + 1) begin : g_bank
        localparam [KW-1:0] J_K = j;
        // banks at or after the read bank hold the next words in the read
        // row, the ones before it in the next row
        wire [BAW-1:0] ra;
        wire           we = push_mem && (wbank_q == J_K);
        reg  [B-1:0]   mem_q [0:BD-1];
        reg  [B-1:0]   rd_q;

        always @(posedge clk) begin
            if (we) begin
                mem_q[wrow_q] <= s_data_i;
            end
            rd_q <= mem_q[ra];
        end

        assign rd_all[j*B +: B] = rd_q;
        if (j == (1 << KW) - 1) begin : g_top
            // no read bank after this one
            assign ra = rrow_q;
        end else begin : g_row
            assign ra = (rbank_q > J_K) ? rrow_n : rrow_q;
        end
    end
endgenerate

// words arriving in the head queue this cycle, arrival i in bits
// [i*B +: B] (flag in bit i): the words in flight, oldest first (rotated from the bank
// read registers by the bank of the oldest), else the bypassed bus word
generate
    for (j = 0; j < M; j = j + 1) begin : g_arr
        localparam [PW-1:0] J1_P = j + 1;
        reg  [B-1:0] rdw;   // read register of bank (fbank_q + j) mod M
        integer      x;

        always @* begin
            rdw = rd_all[(j % M)*B +: B];
            for (x = 1; x < M; x = x + 1) begin
                if (fbank_q == x[KW-1:0]) begin
                    rdw = rd_all[((x + j) % M)*B +: B];
                end
            end
        end

        if (j == 0) begin : g_bus
            assign arr[0 +: B]  = (infl_q == {PW{1'b0}}) ? s_data_i : rdw;
            assign arr_last[0]  = (infl_q == {PW{1'b0}}) ? s_last_i :
                                  flast_q && (infl_q == J1_P);
        end else begin : g_rd
            assign arr[j*B +: B] = rdw;
            assign arr_last[j]   = flast_q && (infl_q == J1_P);
        end
    end
endgenerate

// head queue next-state sources, before the pop: the held words, then the
// arrivals (slots HQ.. are padding for the shift)
generate
    for (j = 0; j < HQ + M; j = j + 1) begin : g_ext
        if (j < HQ) begin : g_src
            reg     [B-1:0]  src;
            reg              src_last;
            integer          y;
            integer          d;     // head count at which arrival y lands here

            always @* begin
                src      = hq_w[j*B +: B];
                src_last = hq_last[j];
                for (y = 0; y < M; y = y + 1) begin
                    d = j - y;
                    if (d >= 0 && hcnt_q == d[NW-1:0]) begin
                        src      = arr[y*B +: B];
                        src_last = arr_last[y];
                    end
                end
            end

            assign ext[j*B +: B] = src;
            assign ext_last[j]   = src_last;
        end else begin : g_pad
            assign ext[j*B +: B] = {B{1'b0}};
            assign ext_last[j]   = 1'b0;
        end
    end
endgenerate

// head queue slots: shifted down by this cycle's pop
generate
    for (j = 0; j < HQ; j = j + 1) begin : g_slot
        reg [B-1:0]  word_q;    // no reset: only slots below hcnt are used
        reg [B-1:0]  word_d;
        reg          last_q;
        reg          last_d;
        integer      p;

        always @* begin
            word_d = ext[j*B +: B];
            last_d = ext_last[j];
            for (p = 1; p <= M; p = p + 1) begin
                if (m_pop_i == p[PW-1:0]) begin
                    word_d = ext[(j+p)*B +: B];
                    last_d = ext_last[j+p];
                end
            end
        end

        always @(posedge clk) begin
            word_q <= word_d;
            last_q <= last_d;
        end

        assign hq_w[j*B +: B] = word_q;
        assign hq_last[j]     = last_q;
        if (j < M) begin : g_out
            assign m_data_o[j*B +: B] = word_q;
            assign m_last_o[j]        = last_q;
        end
    end
endgenerate

always @* begin
    wbank_d = wbank_q;
    wrow_d  = wrow_q;
    rbank_d = rbank_q;
    rrow_d  = rrow_q;
    bcnt_d  = bcnt_q;
    infl_d  = infl_q;
    fbank_d = fbank_q;
    flast_d = flast_q;
    hcnt_d  = hcnt_q;
    hval_d  = hval_q;
    held_d  = held_q;
    seen_d  = seen_q;

    wrow_n = (wrow_q == ROW_LAST) ? {BAW{1'b0}} : wrow_q + 1'b1;
    rrow_n = (rrow_q == ROW_LAST) ? {BAW{1'b0}} : rrow_q + 1'b1;

    // banked words read this cycle: as many as are held, fit in the head
    // queue with the ones in flight, at most M (registered state only)
    room = HQ_N - hcnt_q - infl_n;
    take = M_N;
    if (bcnt_q < take) begin
        take = bcnt_q;
    end
    if (room < take) begin
        take = room;
    end

    // read position: k words on, at most one row
    rsum = {{(NW-KW){1'b0}}, rbank_q} + take;
    if (rsum >= M_N) begin
        rsum   = rsum - M_N;
        rrow_d = rrow_n;
    end
    rbank_d = rsum[KW-1:0];

    // write position
    if (push_mem) begin
        if (wbank_q == BANK_LAST) begin
            wbank_d = {KW{1'b0}};
            wrow_d  = wrow_n;
        end else begin
            wbank_d = wbank_q + 1'b1;
        end
    end

    bcnt_d  = bcnt_q - take + {{(NW-1){1'b0}}, push_mem};
    infl_d  = take[PW-1:0];
    fbank_d = rbank_q;
    // the final word is the newest banked one: flagged when this read
    // empties the banks after it was written
    flast_d = seen_q && (take == bcnt_q);
    hcnt_d  = hcnt_q - pop_n + infl_n + {{(NW-1){1'b0}}, push_hq};
    held_d  = held_q - pop_n + {{(NW-1){1'b0}}, push};
    if (push && s_last_i) begin
        seen_d = 1'b1;
    end
    for (i = 0; i < M; i = i + 1) begin
        hval_d[i] = hcnt_d > i[NW-1:0];
    end

    if (clear_i) begin
        wbank_d = {KW{1'b0}};
        wrow_d  = {BAW{1'b0}};
        rbank_d = {KW{1'b0}};
        rrow_d  = {BAW{1'b0}};
        bcnt_d  = {NW{1'b0}};
        infl_d  = {PW{1'b0}};
        fbank_d = {KW{1'b0}};
        flast_d = 1'b0;
        hcnt_d  = {NW{1'b0}};
        hval_d  = {M{1'b0}};
        held_d  = {NW{1'b0}};
        seen_d  = 1'b0;
    end
end

// only the low bits of the read bank sum and of the take are kept
wire unused_sum = ^{rsum[NW-1:KW], take[NW-1:PW]};

always @(posedge clk) begin
    if (rst) begin
        wbank_q <= {KW{1'b0}};
        wrow_q  <= {BAW{1'b0}};
        rbank_q <= {KW{1'b0}};
        rrow_q  <= {BAW{1'b0}};
        bcnt_q  <= {NW{1'b0}};
        infl_q  <= {PW{1'b0}};
        fbank_q <= {KW{1'b0}};
        flast_q <= 1'b0;
        hcnt_q  <= {NW{1'b0}};
        hval_q  <= {M{1'b0}};
        held_q  <= {NW{1'b0}};
        seen_q  <= 1'b0;
    end else begin
        wbank_q <= wbank_d;
        wrow_q  <= wrow_d;
        rbank_q <= rbank_d;
        rrow_q  <= rrow_d;
        bcnt_q  <= bcnt_d;
        infl_q  <= infl_d;
        fbank_q <= fbank_d;
        flast_q <= flast_d;
        hcnt_q  <= hcnt_d;
        hval_q  <= hval_d;
        held_q  <= held_d;
        seen_q  <= seen_d;
    end
end

endmodule

`resetall
`default_nettype wire
