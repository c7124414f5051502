// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream bitmap decoder
 *
 * Decodes the "bitmap" format.  Beats go in stream order (column by column,
 * row tile by row tile); a tile with L real lanes (L = N except in the last
 * tile of a column, L = O - t*N there) is coded as L mask bits (bit l set
 * iff lane l is nonzero) followed by the nonzero lanes' Q-bit values in
 * increasing lane order.
 *
 * The beat needs L mask bits to size it and L + popcount(mask)*Q bits to
 * fire.  The mask is loaded ahead into a register, with the previous
 * beat's values, together with its popcount*Q and the lanes of the beat
 * after it (see the loop below), so the one-cycle loop is two count
 * compares against registers and the pick of one of three candidate
 * lengths (values; values and the next mask; a mask load) back to the
 * aligner.  The next mask (selected from the aligner's split window at the
 * popcount's offset) and its popcount are worked out beside the loop,
 * register to register.  The mask and the packed values are captured
 * into stage 1 of ws_beat_pipe; from there NVDLA-style (lane l takes
 * packed value number popcount(mask[l-1:0]), gated by mask[l]; lanes >= L
 * are zero) into stage 2, the beat output.  One beat per cycle when the
 * window holds enough bits; a beat leaves two cycles after its bits were
 * consumed.
 *
 * Beat side band: tile index t, first column (k == 0), end of column (last
 * tile), last beat of the layer.
 *
 * The beat sequence (tile t / column k counters, real lanes L, last beat,
 * configuration, truncation and end-of-stream checks) is the shared
 * ws_beat_sequencer (u_seq).
 *
 * Errors (sticky until start_i; code on error_code_o):
 *   1 truncated: the final word is in the aligner and the window cannot
 *     hold the next beat
 *   4 trailing data: after the last beat the buffer holds more than the
 *     zero padding of the final word, or the final word is not in the aligner
 *   5 bad configuration: O == 0, O > MAX_O or K == 0
 */
module ws_bitmap_decoder #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // bus word bits (sizes the aligner count)
    parameter integer B     = 64,
    // largest supported number of rows O
    parameter integer MAX_O = 1280
) (
    // clock
    input  wire                                 clk,
    // synchronous active-high reset
    input  wire                                 rst,

    // 1-cycle pulse: latch the configuration and begin a layer
    input  wire                                 start_i,
    // configuration: rows O
    input  wire [15:0]                          cfg_rows_i,
    // configuration: columns K
    input  wire [31:0]                          cfg_cols_i,

    // aligner window: next stream bits, bit 0 first
    input  wire [N*Q+N-1:0]                     win_data_i,
    // aligner window: the funnel shifted by the pointer's low min(3, log2 B)
    // bits (see ws_bit_aligner)
    input  wire [((N*Q+N+2*B-2)/B+(N*Q+N+B-1)/B)*B-1:0] win_lo_i,
    // aligner window: its bit pointer
    input  wire [$clog2(B)-1:0]                 win_ptr_i,
    // aligner window: number of buffered bits
    input  wire [$clog2(2*(N*Q+N)+3*B+1)-1:0]         win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: the lengths the current beat can take, candidate k
    // in bits [k*CW +: CW]: 0 its values, 1 its values and the next beat's
    // mask, 2 loading its mask
    output wire [3*$clog2(N*Q+N+1)-1:0]         win_need_o,
    // aligner window: one-hot pick of the candidate consumed (or none)
    output wire [2:0]                           win_pick_o,
    // aligner window: word FIFO intake and aligner take enable (registered)
    output wire                                 win_en_o,

    // beat output: N lanes of Q bits, lane l in bits [l*Q +: Q]
    output wire [N*Q-1:0]                       m_beat_data_o,
    // beat output: row tile index t
    output wire [((MAX_O+N-1)/N > 1 ? $clog2((MAX_O+N-1)/N) : 1)-1:0] m_beat_tile_o,
    // beat output: first column (k == 0)
    output wire                                 m_beat_first_o,
    // beat output: last tile of the column
    output wire                                 m_beat_eoc_o,
    // beat output: last beat of the layer
    output wire                                 m_beat_last_o,
    // beat output: valid
    output wire                                 m_beat_valid_o,
    // beat output: ready
    input  wire                                 m_beat_ready_i,

    // status: decode phase (from start until the last beat fired)
    output wire                                 busy_o,
    // status: layer decoded and stream end checked (sticky)
    output wire                                 done_o,
    // status: error (sticky)
    output wire                                 error_o,
    // status: error code (0 none, 1 truncated, 4 trailing, 5 configuration)
    output wire [3:0]                           error_code_o,
    // status: decode phase waiting for input bits
    output wire                                 starve_o
);

localparam integer WIN   = N*Q + N;
localparam integer CNT_W = $clog2(2*WIN + 3*B + 1);
localparam integer CW    = $clog2(WIN + 1);
localparam integer RW    = $clog2(MAX_O + 1);
localparam integer RBW   = $clog2(MAX_O + N + 1);
localparam integer LW    = $clog2(N + 1);
// the aligner's pointer width, low pointer bits of its split window (LO)
// and the values of the high ones (NH)
localparam integer PTR_W = $clog2(B);
localparam integer LO    = PTR_W < 3 ? PTR_W : 3;
localparam integer NH    = 1 << (PTR_W - LO);
// the largest merged offset of the next mask
localparam integer DMAX  = (NH - 1) * (1 << LO) + N*Q;

localparam [CW-1:0]  Q_C     = Q[CW-1:0];
localparam integer   QLW     = $clog2(N*Q + N);
localparam [QLW-1:0] Q_L     = Q[QLW-1:0];

// parameter checks
generate
    if (N < 1 || Q < 1 || B < 1 || MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_bitmap_decoder: need N, Q, B >= 1 and 1 <= MAX_O <= 65535");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;
// raw record: mask, packed values, tile, first, eoc, last
localparam integer RAW_W = N + N*Q + TW + 3;
// beat record: lanes, tile, first, eoc, last
localparam integer OUT_W = N*Q + TW + 3;

// number of set bits of v, for the scatter's lane counts in stage 2 (off the
// loop; a sum of single bits there simulates in fewer instructions than
// popcount_nib below, over N calls)
function [LW-1:0] popcount;
    input [N-1:0] v;
    integer i;
    begin
        popcount = {LW{1'b0}};
        for (i = 0; i < N; i = i + 1) begin
            popcount = popcount + {{(LW-1){1'b0}}, v[i]};
        end
    end
endfunction

// number of set bits of v, for the next mask's count beside the loop: a
// sum of 4-bit counts, each from its own logic (a LUT level per count and
// a short adder tree, where a sum of N single bits maps to a deeper
// compressor: n8 4.3 against 5.3 ns alone on the HX8K, n16 6.3 against
// 7.4)
localparam integer NB = (N + 3) / 4;

function [LW-1:0] popcount_nib;
    input [N-1:0] v;
    reg   [4*NB-1:0] x;
    reg   [2:0]      c;
    reg   [LW+2:0]   sum;
    integer          k;
    begin
        x   = {{(4*NB-N){1'b0}}, v};
        sum = {(LW+3){1'b0}};
        for (k = 0; k < NB; k = k + 1) begin
            c[0] = ^x[k*4 +: 4];
            c[1] = (x[k*4] & x[k*4+1]) ^ (x[k*4+2] & x[k*4+3]) ^
                   ((x[k*4] ^ x[k*4+1]) & (x[k*4+2] ^ x[k*4+3]));
            c[2] = &x[k*4 +: 4];
            sum  = sum + {{LW{1'b0}}, c};
        end
        popcount_nib = sum[LW-1:0];
    end
endfunction

// ---- the loop: the mask is held, the beat is popcount(mask)*Q bits ---------
// The current beat's mask is in a register (mask_q, valid mv_q) and the
// aligner's pointer stands at the beat's values.  A beat fires when its
// values are buffered; in the same cycle the next beat's L' mask bits, which
// follow the values, are loaded at the popcount's offset (one of N+1 fixed
// positions) and consumed with them.  Registered with the mask: its
// popcount (pop_q), the length of its values (need_v_q = popcount*Q) and
// the lanes L' of the beat after it (la_q), so the loop is two count
// compares against registers (the values; the values and the next mask,
// need_v_q + la_q) -> the pick of one of three candidate lengths (values,
// values and next mask, a mask load) -> the aligner, which has worked out
// pointer and slots dropped for all three from registers.  The next mask
// and its popcount (split window -> offset select -> popcount -> pop_q,
// need_v_q) are register to register beside the loop.
// A mask that is not buffered yet is loaded in a cycle of its own (the
// first beat of a layer, and after the source starved the FIFO).
wire           running;
wire [LW-1:0]  lanes;
wire [LW-1:0]  lanes_nx;
wire [LW-1:0]  lanes_nx_next;
wire [TW-1:0]  tile;
wire           first;
wire           eoc;
wire           last;
wire           pipe_ready;
wire           pipe_busy;
wire           pipe_valid;
// the rows and the tile base are not needed here (lanes covers the last tile)
wire [RW-1:0]  unused_rows;
wire [RBW-1:0] unused_rbase;
wire [RW-1:0]  unused_rleft;

reg  [N-1:0]   mask_q, mask_d;     // the current beat's mask (lanes >= L zero)
reg  [LW-1:0]  pop_q, pop_d;       // popcount(mask_q)
reg  [CW-1:0]  need_v_q, need_v_d; // popcount(mask_q)*Q: the values
reg  [LW-1:0]  la_q, la_d;         // L': real lanes of the beat after it
reg            mv_q, mv_d;         // mask_q holds it

genvar l;

wire [CW-1:0]  lanes_c  = {{(CW-LW){1'b0}}, lanes};

// the loop: count compares against registers, then the pick
wire           load    = running && !mv_q && (win_count_i >= {{(CNT_W-CW){1'b0}}, lanes_c});
wire           enough  = win_count_i >= {{(CNT_W-CW){1'b0}}, need_v_q};
wire           go      = running && mv_q && pipe_ready;
// the values and the next mask: one adder from registers before the
// compare; after the layer's last beat no mask follows
wire [CW-1:0]  need_m  = need_v_q + {{(CW-LW){1'b0}}, la_q};
wire           take_nx = (win_count_i >= {{(CNT_W-CW){1'b0}}, need_m}) && !last;
wire           waiting = mv_q ? !enough : !load;
wire           fire    = go && enough;

// three candidate lengths, all registers: the values (0), the values and
// the next mask (1), a mask load (2); need_m >= need_v_q, so take_nx
// implies enough
assign win_need_o = {lanes_c, need_m, need_v_q};
assign win_pick_o = {load, fire && take_nx, fire && !take_nx};

// ---- beside the loop: the next mask and its lengths ------------------------
// the popcount as a one-hot code, decoded from its register beside the
// window shift
// (a decoder written as a shift: one vector for a simulator)
wire [N:0]     pop_oh = {{N{1'b0}}, 1'b1} << pop_q;

// lanes >= L of the mask's beat are zero: the current beat's for a mask
// loaded on its own, the next beat's for a firing beat's successor (from
// registers, before the window arrives)
wire [LW-1:0]  lanes_sel = mv_q ? lanes_nx : lanes;
wire [N-1:0]   lane_en_sel;

generate
    for (l = 0; l < N; l = l + 1) begin : g_lane_sel
        localparam [LW-1:0] L_IDX = l;
        assign lane_en_sel[l] = L_IDX < lanes_sel;
    end
endgenerate

// The mask to register lies at window offset popcount*Q: while no mask is
// held pop_q is kept at 0, so the same select gives a mask loaded on its
// own (offset 0) and, when a beat fires, the next beat's.  The window is
// the aligner's low-shifted funnel (win_lo_i) shifted by the pointer's high
// bits; that shift and this offset are merged into one one-hot select over
// their sums d = hi*2^LO + k*Q, decoded from registers beside the low shift
// offset d is reached by a pair (h, k): d = h*2^LO + k*Q, h < NH, k <= N
function reach;
    input integer d;
    integer hh;
    begin
        reach = 1'b0;
        for (hh = 0; hh < NH; hh = hh + 1) begin
            if (d >= hh * (1 << LO) && (d - hh * (1 << LO)) % Q == 0 &&
                (d - hh * (1 << LO)) / Q <= N) begin
                reach = 1'b1;
            end
        end
    end
endfunction

// the number of reachable offsets, and the r-th of them in increasing order
function integer n_reach;
    input integer unused;
    integer d;
    begin
        n_reach = 0;
        for (d = 0; d <= DMAX; d = d + 1) begin
            if (reach(d)) begin
                n_reach = n_reach + 1;
            end
        end
    end
endfunction

function integer off_at;
    input integer r;
    integer d;
    integer c;
    begin
        off_at = 0;
        c      = 0;
        for (d = 0; d <= DMAX; d = d + 1) begin
            if (reach(d)) begin
                if (c == r) begin
                    off_at = d;
                end
                c = c + 1;
            end
        end
    end
endfunction

localparam integer NR = n_reach(0);

wire [NH-1:0]     hi_oh;          // the pointer's high bits, one-hot
// the window's N bits at each reachable offset, ANDed with its select
wire [NR*N-1:0]   nx_terms;
reg  [N-1:0]      nx_or;
wire [N-1:0]      nx_mask;
integer           rr;

genvar            hg;
genvar            rg;

generate
    // the pointer's high bits decoded (a shift: one vector for a simulator)
    // (the low pointer bits are the aligner's: win_lo_i is shifted by them)
    wire unused_ptr_lo = ^win_ptr_i[LO-1:0];
    if (NH > 1) begin : g_hi_oh
        assign hi_oh = {{(NH-1){1'b0}}, 1'b1} << win_ptr_i[PTR_W-1:LO];
    end else begin : g_hi_one
        assign hi_oh = 1'b1;
        wire unused_ptr = ^win_ptr_i;
    end
    // Offset d is selected by the one pair (h, k) that is set, out of
    // those with h*2^LO + k*Q = d; an offset no pair reaches is left out,
    // so there is one term per reachable offset, a constant slice of the
    // window (a vector AND-OR: the same AND-OR in hardware, cheap to
    // simulate)
    for (rg = 0; rg < NR; rg = rg + 1) begin : g_off
        localparam integer D = off_at(rg);
        wire [NH-1:0] pair;
        for (hg = 0; hg < NH; hg = hg + 1) begin : g_pair
            localparam integer KQ = D - hg * (1 << LO);
            if (KQ >= 0 && KQ % Q == 0 && KQ / Q <= N) begin : g_on
                assign pair[hg] = hi_oh[hg] & pop_oh[KQ / Q];
            end else begin : g_none
                assign pair[hg] = 1'b0;
            end
        end
        assign nx_terms[rg*N +: N] = win_lo_i[D +: N] & {N{|pair}};
    end
endgenerate

// bits between the reachable offsets' masks and above the largest are not
// read
wire           unused_lo = ^win_lo_i;

always @* begin
    nx_or = {N{1'b0}};
    for (rr = 0; rr < NR; rr = rr + 1) begin
        nx_or = nx_or | nx_terms[rr*N +: N];
    end
end

assign nx_mask = nx_or & lane_en_sel;

wire [N-1:0]   mask_new = nx_mask;
// the real lanes of the beat after the new mask's: the sequencer's next
// beat's for a loaded mask, the one after that for a fire (registered state)
wire [LW-1:0]  lanes_after = mv_q ? lanes_nx_next : lanes_nx;
wire [LW-1:0]  pop_new  = popcount_nib(mask_new);
wire [CW-1:0]  pop_new_c = {{(CW-LW){1'b0}}, pop_new};
wire [CW-1:0]  need_v_new = pop_new_c * Q_C;


always @* begin
    mask_d   = mask_q;
    pop_d    = pop_q;
    need_v_d = need_v_q;
    la_d     = la_q;
    mv_d     = mv_q;
    if (load || fire) begin
        mask_d   = mask_new;
        need_v_d = need_v_new;
        la_d     = lanes_after;
        mv_d     = load || take_nx;
        // popcount 0 while no mask is held (see the select above)
        pop_d    = (load || take_nx) ? pop_new : {LW{1'b0}};
    end
    if (start_i) begin
        mv_d  = 1'b0;
        pop_d = {LW{1'b0}};
    end
end

always @(posedge clk) begin
    if (rst) begin
        mask_q   <= {N{1'b0}};
        pop_q    <= {LW{1'b0}};
        need_v_q <= {CW{1'b0}};
        la_q     <= {LW{1'b0}};
        mv_q     <= 1'b0;
    end else begin
        mask_q   <= mask_d;
        pop_q    <= pop_d;
        need_v_q <= need_v_d;
        la_q     <= la_d;
        mv_q     <= mv_d;
    end
end

ws_beat_sequencer #(
    .N(N),
    .MAX_O(MAX_O)
) u_seq (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
    // every beat ends its tile's (one-column) group
    .grp_col0_i(1'b1),
    .grp_lcol_i(1'b1),
    .grp_last_i(1'b0),
    .fire_i(fire),
    .wait_i(waiting),
    // no format errors beyond truncation
    .err_i(1'b0),
    .err_code_i(`WS_ERR_NONE),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
    .running_o(running),
    .rows_o(unused_rows),
    .tile_o(tile),
    .rbase_o(unused_rbase),
    .rleft_o(unused_rleft),
    .lanes_o(lanes),
    .lanes_nx_o(lanes_nx),
    .lanes_nx_next_o(lanes_nx_next),
    .first_o(first),
    .eoc_o(eoc),
    .last_o(last),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o)
);

// the values: the pointer stands at them (the masks come from the split
// window, the window's bits above the values are not read)
wire [N*Q-1:0] vals = win_data_i[N*Q-1:0];
wire           unused_win_top = ^win_data_i[WIN-1:N*Q];

// ---- stage 1 -> stage 2: NVDLA-style scatter --------------------------------
// lane l takes packed value number popcount(mask[l-1:0]), gated by mask[l]
wire [RAW_W-1:0] raw;
wire [OUT_W-1:0] beat;
wire [N-1:0]     raw_mask = raw[RAW_W-1 -: N];
wire [N*Q-1:0]   raw_vals = raw[TW+3 +: N*Q];
wire [N*Q-1:0]   ext_data;
// widened to the window so that a value index never runs off its end
wire [WIN-1:0]   raw_vals_x = {{N{1'b0}}, raw_vals};

generate
    for (l = 0; l < N; l = l + 1) begin : g_lane
        localparam [N-1:0]  BELOW = ({{(N-1){1'b0}}, 1'b1} << l) - 1'b1;
        // packed value number of this lane (a count of its own per lane: an
        // adder tree each, not one running sum whose depth grows with l)
        wire [LW-1:0]  idx = popcount(raw_mask & BELOW);
        wire [QLW-1:0] pos = {{(QLW-LW){1'b0}}, idx} * Q_L;
        assign ext_data[l*Q +: Q] = raw_mask[l] ? raw_vals_x[pos +: Q] : {Q{1'b0}};
    end
endgenerate

ws_beat_pipe #(
    .RAW_W(RAW_W),
    .OUT_W(OUT_W)
) u_pipe (
    .clk(clk),
    .rst(rst),
    .flush_i(start_i || error_o),
    .s_raw_i({mask_q, vals[N*Q-1:0], tile, first, eoc, last}),
    .s_fire_i(fire),
    .s_ready_o(pipe_ready),
    .raw_o(raw),
    .ext_i({ext_data, raw[TW+2:0]}),
    .m_data_o(beat),
    .m_valid_o(pipe_valid),
    .m_ready_i(m_beat_ready_i),
    .busy_o(pipe_busy)
);

assign m_beat_data_o  = beat[OUT_W-1 -: N*Q];
assign m_beat_tile_o  = beat[3 +: TW];
assign m_beat_first_o = beat[2];
assign m_beat_eoc_o   = beat[1];
assign m_beat_last_o  = beat[0];
// a beat never leaves once an error is flagged (the pipeline is flushed next)
assign m_beat_valid_o = pipe_valid && !error_o;
assign win_en_o       = running;

assign busy_o       = running || pipe_busy;
assign starve_o     = running && waiting;

endmodule

`resetall
`default_nettype wire
