// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream bit aligner (word funnel + bit pointer)
 *
 * Takes B-bit words of an LSB-first bit stream from the head of a word
 * FIFO (or bank) and presents a window of the next WIN stream bits to a
 * decoder (window bit 0 = next stream bit), with the number of buffered
 * bits.  The decoder offers K candidate lengths (win_need_i, each <= WIN,
 * from state it has early) and picks at most one late in the cycle
 * (win_pick_i, one-hot; only a length <= count): those bits are consumed.
 *
 * Micro-architecture, built so that only the consume count is in the
 * one-cycle loop back from the decoder:
 *   - a funnel of C = WN + M word slots (WN = ceil((WIN + B - 1) / B), the
 *     slots a window starting anywhere in slot 0 can span), slot 0 oldest,
 *     v_q slots valid; slots >= v_q hold stale words (window bits above
 *     the count are don't-care: a decoder only uses bits below the count;
 *     no zero-fill, which yosys would turn into a synchronous reset on
 *     the slot flip-flops, a global net in the loop);
 *   - a bit pointer p_q < B into slot 0: the window is the funnel shifted
 *     right by p_q, a shift by a registered amount (SHIFT_OH: by a
 *     registered one-hot copy of its low 3 bits first, then by the rest);
 *     the funnel shifted by the low bits alone and the pointer are outputs
 *     too (win_lo_o, win_ptr_o), for a decoder that merges the last shift
 *     with a selection of its own;
 *   - consuming c bits moves the pointer to p_q + c and drops
 *     a = floor((p_q + c) / B) <= M whole slots: an (M+1)-way word mux;
 *     pointer and slots dropped are computed for every candidate length
 *     while the decoder decides, and its late pick only selects them (an
 *     AND-OR), then the slot mux;
 *   - words are taken from the FIFO head by registered state only (the k
 *     oldest present words that fit the free slots, k <= M), not by this
 *     cycle's consume: they are written behind the v_q valid slots before
 *     the slot drop.  So nothing from the decoder reaches the FIFO's read
 *     side, and with C = WN + M slots the funnel holds a whole window again
 *     in the cycle after any beat, as long as the FIFO has the words.
 * The buffered count is v_q*B - p_q, kept in a register (avail_q) and
 * presented as it is (up to C*B bits).  Nothing is taken while en_i is
 * low.
 *
 * The last word: s_last_i flags the final word of the layer.  Once the
 * aligner has taken it, win_last_o is high (the FIFO accepts nothing after
 * it).  win_tail_ok_o is high when the last word has been taken, no word
 * is left in the FIFO and the remaining buffered bits are only zero
 * padding of that word (fewer than B bits, all zero): the decoder checks
 * it when the layer completes (TAIL_TH: slot 0 ANDed with a registered
 * thermometer of the pointer, instead of slot 0 shifted by it).
 */
module ws_bit_aligner #(
    // bus word width in bits
    parameter integer B   = 64,
    // window width in bits: the most bits presented and consumed per cycle
    parameter integer WIN = 128,
    // most FIFO words taken per cycle (M*B >= WIN); ceil(WIN/B) covers the
    // largest beat
    parameter integer M   = (WIN + B - 1) / B,
    // candidate lengths the decoder offers per cycle (it picks one late)
    parameter integer K   = 1,
    // 1: the window shift's low 3 pointer bits come from a one-hot copy of
    // them (an AND-OR of 8 shifted funnels instead of three 2:1 mux levels:
    // two logic levels fewer from the funnel to the window, more LUTs); 0:
    // a plain shift by the pointer
    parameter integer SHIFT_OH = 0,
    // 1: win_tail_ok_o from a registered thermometer of the pointer (bit i
    // set when i >= p_q), an AND-OR over slot 0 instead of a shift and an
    // OR (fewer logic levels to the end-of-stream check, B more flip-flops);
    // 0: slot 0 shifted by the pointer
    parameter integer TAIL_TH = 0
) (
    // clock
    input  wire                           clk,
    // synchronous active-high reset
    input  wire                           rst,

    // clear the funnel and the last-word flag (start of a layer)
    input  wire                           clear_i,
    // word take enable; must be driven from registered state
    input  wire                           en_i,

    // FIFO head words: word j (j-th oldest) in bits [j*B +: B]
    input  wire [M*B-1:0]                 s_data_i,
    // FIFO head words: word j present (thermometer code)
    input  wire [M-1:0]                   s_valid_i,
    // FIFO head words: word j is the final word of the layer
    input  wire [M-1:0]                   s_last_i,
    // FIFO head words: number taken this cycle (from registered state)
    output wire [$clog2(M+1)-1:0]         s_pop_o,

    // window: the next WIN stream bits, bit 0 = next stream bit
    output wire [WIN-1:0]                 win_data_o,
    // window, split in two: the funnel shifted right by the pointer's low
    // min(3, log2 B) bits (win_ptr_o[LO-1:0]); the window is this shifted
    // further by the pointer with those bits cleared.  For a decoder that
    // merges the last shift with a selection of its own; with SHIFT_OH only
    // bits below WIN + B - 2^LO are formed (the window's reach at the
    // largest high shift), the rest read as zero
    output wire [((WIN+2*B-2)/B+M)*B-1:0] win_lo_o,
    // window: the bit pointer into the oldest word (the window's shift)
    output wire [$clog2(B)-1:0]           win_ptr_o,
    // window: number of buffered bits (up to C*B < 2*WIN + 3*B)
    output wire [$clog2(2*WIN+3*B+1)-1:0] win_count_o,
    // window: the final word has been taken from the FIFO
    output wire                           win_last_o,
    // window: final word taken and only its zero padding remains
    output wire                           win_tail_ok_o,
    // window: candidate lengths (<= WIN), candidate k in bits [k*CW +: CW]
    input  wire [K*$clog2(WIN+1)-1:0]     win_need_i,
    // window: one-hot (or zero: nothing consumed): candidate k is consumed
    // this cycle (its length <= count)
    input  wire [K-1:0]                   win_pick_i
);

// words a window starting anywhere in slot 0 can span
localparam integer WN    = (WIN + B - 1 + B - 1) / B;
// funnel slots
localparam integer C     = WN + M;
localparam integer FB    = C * B;
localparam integer CW    = $clog2(WIN + 1);
localparam integer OW    = $clog2(2*WIN + 3*B + 1);
localparam integer PW    = $clog2(M + 1);
localparam integer VW    = $clog2(C + 1);
localparam integer AVW   = $clog2(FB + 1);
localparam integer PTR_W = $clog2(B);   // B >= 2 (checked below)
// pointer + consume
localparam integer SW    = $clog2(B + WIN);
localparam integer B_POW2 = (B & (B - 1)) == 0 ? 1 : 0;

localparam [AVW-1:0] B_AV   = B[AVW-1:0];
// pointer bits shifted by the one-hot copy (SHIFT_OH), and its width
localparam integer LO    = PTR_W < 3 ? PTR_W : 3;
localparam integer NLO   = 1 << LO;

// parameter checks
generate
    if (B < 2 || WIN < 1 || M < 1 || M*B < WIN) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_bit_aligner: need B >= 2, WIN >= 1, M >= 1 and M*B >= WIN");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg [FB-1:0]    w_q, w_d;        // funnel slots, slot s in bits [s*B +: B]
reg [VW-1:0]    v_q, v_d;        // valid slots
reg [PTR_W-1:0] p_q, p_d;        // bit pointer into slot 0
reg [NLO-1:0]   plo_q, plo_d;    // one-hot of p_q[LO-1:0] (used by SHIFT_OH)
reg [B-1:0]     pth_q, pth_d;    // bit i: i >= p_q (used by TAIL_TH)
reg [AVW-1:0]   avail_q, avail_d; // v_q*B - p_q
reg             last_q, last_d;

// ---- take: from registered state only --------------------------------
reg [M-1:0]     take;            // head word j taken (thermometer)
reg [PW-1:0]    n_take;
reg             take_last;
reg             ok;
reg [FB-1:0]    ext;             // slots with the taken words behind v_q
integer         j;
integer         s;

always @* begin
    take      = {M{1'b0}};
    n_take    = {PW{1'b0}};
    take_last = 1'b0;
    ok        = en_i;
    for (j = 0; j < M; j = j + 1) begin
        // word j goes to slot v_q + j, which must exist
        ok = ok && s_valid_i[j] && ({{(32-VW){1'b0}}, v_q} <= C - 1 - j);
        if (ok) begin
            take[j]   = 1'b1;
            n_take    = n_take + 1'b1;
            take_last = take_last || s_last_i[j];
        end
    end
    // the taken words go behind the valid slots
    ext = w_q;
    for (s = 0; s < C; s = s + 1) begin
        for (j = 0; j < M && j <= s; j = j + 1) begin
            if (take[j] && {{(32-VW){1'b0}}, v_q} == s - j) begin
                ext[s*B +: B] = s_data_i[j*B +: B];
            end
        end
    end
end

// ---- consume: the one-cycle loop --------------------------------------------
// per candidate: pointer + length, whole slots passed, the pointer after them
reg  [K*PW-1:0]    drop_k;
reg  [K*PTR_W-1:0] rest_k;
reg  [SW-1:0]      pc;
reg  [SW-1:0]      pc_hi;
reg  [PW-1:0]      drop;         // whole slots consumed (picked)
reg  [PTR_W-1:0]   rest;         // pointer after them (picked)
reg  [CW-1:0]      used;         // bits consumed (picked)
reg  [NLO-1:0]     rlo;          // one-hot of rest[LO-1:0] (picked)
reg  [B-1:0]       rth;          // thermometer of rest (picked)
reg  [B-1:0]       th_k;         // thermometer of a candidate's rest
integer            i;
integer            c;

always @* begin
    drop_k = {K*PW{1'b0}};
    rest_k = {K*PTR_W{1'b0}};
    pc     = {SW{1'b0}};
    pc_hi  = {SW{1'b0}};
    for (c = 0; c < K; c = c + 1) begin
        pc = {{(SW-PTR_W){1'b0}}, p_q} + {{(SW-CW){1'b0}}, win_need_i[c*CW +: CW]};
        if (B_POW2 != 0) begin
            // pc <= B - 1 + WIN <= (M + 1)*B - 1: the quotient fits
            pc_hi = pc >> PTR_W;
            drop_k[c*PW +: PW]       = pc_hi[PW-1:0];
            rest_k[c*PTR_W +: PTR_W] = pc[PTR_W-1:0];
        end else begin
            drop_k[c*PW +: PW]       = {PW{1'b0}};
            rest_k[c*PTR_W +: PTR_W] = pc[PTR_W-1:0];
            for (i = 1; i <= M; i = i + 1) begin
                if (pc >= i[SW-1:0] * B[SW-1:0]) begin
                    pc_hi                    = pc - i[SW-1:0] * B[SW-1:0];
                    drop_k[c*PW +: PW]       = i[PW-1:0];
                    rest_k[c*PTR_W +: PTR_W] = pc_hi[PTR_W-1:0];
                end
            end
        end
    end
    drop = {PW{1'b0}};
    rest = {PTR_W{1'b0}};
    used = {CW{1'b0}};
    rlo  = {NLO{1'b0}};
    rth  = {B{1'b0}};
    for (c = 0; c < K; c = c + 1) begin
        // decoded per candidate from registered state, before the pick:
        // bit i set when i >= rest (a vector shift: each bit the same
        // function of the candidate's rest as a compare, cheap to simulate)
        th_k = {B{1'b1}} << rest_k[c*PTR_W +: PTR_W];
        if (win_pick_i[c]) begin
            rth  = rth | th_k;
            drop = drop | drop_k[c*PW +: PW];
            rest = rest | rest_k[c*PTR_W +: PTR_W];
            used = used | win_need_i[c*CW +: CW];
            // one-hot of the low pointer bits, decoded per candidate early
            rlo  = rlo | ({{(NLO-1){1'b0}}, 1'b1} << rest_k[c*PTR_W +: LO]);
        end
    end
end

wire fire = |win_pick_i;
reg  [FB-1:0]     w_fire;
integer           ss;

always @* begin
    w_d     = w_q;
    v_d     = v_q;
    p_d     = p_q;
    plo_d   = plo_q;
    pth_d   = pth_q;
    avail_d = avail_q;
    last_d  = last_q || take_last;

    // a firing beat drops `drop` slots: slot s <- ext slot s + drop; a slot
    // with nothing behind it keeps its stale word (fewer mux inputs)
    for (ss = 0; ss < C; ss = ss + 1) begin
        w_fire[ss*B +: B] = ext[ss*B +: B];
        for (i = 1; i <= M; i = i + 1) begin
            if (drop == i[PW-1:0] && ss + i < C) begin
                w_fire[ss*B +: B] = ext[(ss + i)*B +: B];
            end
        end
    end
    w_d     = w_fire;
    v_d     = v_q + {{(VW-PW){1'b0}}, n_take} - {{(VW-PW){1'b0}}, drop};
    p_d     = fire ? rest : p_q;
    plo_d   = fire ? rlo : plo_q;
    pth_d   = fire ? rth : pth_q;
    avail_d = avail_q + {{(AVW-PW){1'b0}}, n_take} * B_AV - {{(AVW-CW){1'b0}}, used};

    if (clear_i) begin
        v_d     = {VW{1'b0}};
        p_d     = {PTR_W{1'b0}};
        plo_d   = {{(NLO-1){1'b0}}, 1'b1};
        pth_d   = {B{1'b1}};
        avail_d = {AVW{1'b0}};
        last_d  = 1'b0;
    end
end

// only the pointer bits of the sums and the quotient's PW bits are kept
wire unused_pc = ^{pc, pc_hi};

always @(posedge clk) begin
    if (rst) begin
        v_q     <= {VW{1'b0}};
        p_q     <= {PTR_W{1'b0}};
        plo_q   <= {{(NLO-1){1'b0}}, 1'b1};
        pth_q   <= {B{1'b1}};
        avail_q <= {AVW{1'b0}};
        last_q  <= 1'b0;
    end else begin
        v_q     <= v_d;
        p_q     <= p_d;
        plo_q   <= plo_d;
        pth_q   <= pth_d;
        avail_q <= avail_d;
        last_q  <= last_d;
    end
end

// slot data without reset: only slots below v_q are read
always @(posedge clk) begin
    w_q <= w_d;
end

// ---- window: the funnel shifted by the registered pointer ----------------
wire [FB-1:0] shifted;

generate
    if (SHIFT_OH != 0) begin : g_shift_oh
        // by the low pointer bits (one-hot AND-OR), then by the high ones.
        // Only the LSW bits the high shift and a decoder's merged select
        // read are formed (WIN + B - 1 <= FB, so every slice is inside the
        // funnel): the same AND-OR per bit, fewer and constant-offset
        // slices for a simulator
        localparam integer LSW = WIN + B - NLO;
        reg [LSW-1:0] lo_shifted;
        integer       jl;
        always @* begin
            lo_shifted = {LSW{1'b0}};
            for (jl = 0; jl < NLO; jl = jl + 1) begin
                lo_shifted = lo_shifted | (w_q[jl +: LSW] & {LSW{plo_q[jl]}});
            end
        end
        if (LO < PTR_W) begin : g_hi
            wire [LSW-1:0] hi_shifted = lo_shifted >> {p_q[PTR_W-1:LO], {LO{1'b0}}};
            assign shifted = {{(FB-LSW){1'b0}}, hi_shifted};
        end else begin : g_no_hi
            // B <= 8: the pointer has no high bits
            assign shifted = {{(FB-LSW){1'b0}}, lo_shifted};
        end
        assign win_lo_o = {{(FB-LSW){1'b0}}, lo_shifted};
    end else begin : g_shift
        assign shifted = w_q >> p_q;
        assign win_lo_o = w_q >> p_q[LO-1:0];
        // the one-hot copy is not used by the plain shift
        wire unused_plo = ^plo_q;
    end
endgenerate
// slot 0's bits at and above the pointer (the rest are consumed)
wire [B-1:0]  tail;

generate
    if (TAIL_TH != 0) begin : g_tail_th
        assign tail = w_q[B-1:0] & pth_q;
    end else begin : g_tail_shift
        assign tail = w_q[B-1:0] >> p_q;
        // the thermometer is not used by the shift
        wire unused_pth = ^pth_q;
    end
endgenerate

assign s_pop_o       = n_take;
assign win_data_o    = shifted[WIN-1:0];
assign win_ptr_o     = p_q;
assign win_count_o   = {{(OW-AVW){1'b0}}, avail_q};
assign win_last_o    = last_q;
// fewer than B bits left: none, or the top of slot 0
assign win_tail_ok_o = last_q && !s_valid_i[0] && (avail_q < B_AV) &&
                       (avail_q == {AVW{1'b0}} || !(|tail));

// the window never reaches the top slot bits beyond WIN
wire unused_shifted = ^shifted[FB-1:WIN];

endmodule

`resetall
`default_nettype wire
