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
 * The write ready is computed from registered state only:
 *   s_ready_o = en_i & ~last_seen & (count < DEPTH)
 * en_i must itself come from registered state of the consumer.  Once the
 * word flagged last has been written, no further word is accepted (so the
 * last-flagged word is always the newest one held).  A word written in a
 * cycle is presented from the next cycle on; a word taken in the same
 * cycle frees its slot for the next cycle's write (the ready does not look
 * at this cycle's pop).
 *
 * clear_i empties the FIFO and forgets the last word; it overrides a write
 * in the same cycle (that word belonged to the dropped layer).
 *
 * DEPTH must be a power of two, at least 2 and at least M.  The storage is
 * a flip-flop array without reset (entries are only read once written).
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

    // head words: word j (the j-th oldest held) in bits [j*B +: B]
    output wire [M*B-1:0]             m_data_o,
    // head words: word j is present (thermometer code, j < count)
    output wire [M-1:0]               m_valid_o,
    // head words: word j is the final word of the layer
    output wire [M-1:0]               m_last_o,
    // head words: number taken this cycle (0..M, only present ones)
    input  wire [$clog2(M+1)-1:0]     m_pop_i,

    // status: no word held
    output wire                       empty_o
);

localparam integer AW = DEPTH > 1 ? $clog2(DEPTH) : 1;
localparam integer CW = $clog2(DEPTH + 1);
localparam integer PW = $clog2(M + 1);

localparam [CW-1:0] DEPTH_C = DEPTH[CW-1:0];

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

// storage: word data and its last flag in bit B
reg [B:0] mem_q [0:DEPTH-1];

reg [AW-1:0] rd_q, rd_d;
reg [AW-1:0] wr_q, wr_d;
reg [CW-1:0] cnt_q, cnt_d;
reg          seen_q, seen_d;    // the last-flagged word has been written

reg [CW-1:0] rd_sum;
reg [CW-1:0] wr_sum;

wire          push  = s_valid_i && s_ready_o;
wire [CW-1:0] pop_c = {{(CW-PW){1'b0}}, m_pop_i};

assign s_ready_o = en_i && !seen_q && (cnt_q != DEPTH_C);
assign empty_o   = (cnt_q == {CW{1'b0}});

genvar j;
generate
    for (j = 0; j < M; j = j + 1) begin : g_head
        localparam [AW-1:0] J_A = j;
        localparam [CW-1:0] J_C = j;
        // slot of head word j
        wire [AW-1:0] idx = rd_q + J_A;
        wire [B:0]    ent = mem_q[idx];
        assign m_data_o[j*B +: B] = ent[B-1:0];
        assign m_last_o[j]        = ent[B];
        assign m_valid_o[j]       = cnt_q > J_C;
    end
endgenerate

always @* begin
    rd_d   = rd_q;
    wr_d   = wr_q;
    cnt_d  = cnt_q;
    seen_d = seen_q;

    // pointers wrap modulo DEPTH (a power of two): the carry bit is dropped
    rd_sum = {{(CW-AW){1'b0}}, rd_q} + pop_c;
    wr_sum = {{(CW-AW){1'b0}}, wr_q} + {{(CW-1){1'b0}}, push};
    rd_d   = rd_sum[AW-1:0];
    wr_d   = wr_sum[AW-1:0];
    cnt_d  = cnt_q + {{(CW-1){1'b0}}, push} - pop_c;
    if (push && s_last_i) begin
        seen_d = 1'b1;
    end

    if (clear_i) begin
        rd_d   = {AW{1'b0}};
        wr_d   = {AW{1'b0}};
        cnt_d  = {CW{1'b0}};
        seen_d = 1'b0;
    end
end

// only the low AW bits of the pointer sums are kept
wire unused_sum = ^{rd_sum[CW-1:AW], wr_sum[CW-1:AW]};

always @(posedge clk) begin
    if (rst) begin
        rd_q   <= {AW{1'b0}};
        wr_q   <= {AW{1'b0}};
        cnt_q  <= {CW{1'b0}};
        seen_q <= 1'b0;
    end else begin
        rd_q   <= rd_d;
        wr_q   <= wr_d;
        cnt_q  <= cnt_d;
        seen_q <= seen_d;
    end
end

// word storage, no reset (an entry is only presented once written)
always @(posedge clk) begin
    if (push) begin
        mem_q[wr_q] <= {s_last_i, s_data_i};
    end
end

endmodule

`resetall
`default_nettype wire
