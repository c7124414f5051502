// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream lane-huffman decoder (and delta-lane-huffman, DELTA = 1)
 *
 * The stream (docs/stream-formats.md, lane-huffman): bitmap-huffman's
 * header (lmax, the counts per length, the symbols in canonical order),
 * then per beat L mask bits and, for each set lane in increasing order,
 * while its count c_l < T = 2*lmax, its next C-bit chunk (c_l += C); then
 * every set lane decodes one code from the front of its own sub-stream.
 *
 * Header (ws_huffman_header): lmax in a cycle, then the counts in groups
 * of CPC per cycle (their limits chained), then SPC symbols per cycle into
 * the symbol table: flip-flops written a block of SPC (as many as the
 * window holds) per cycle when 2^Q * Q <= FFT (ws_sym_table_ff), else one
 * block RAM per lane with SPC symbols a word (ws_sym_table_ram, 2 at Q =
 * 8).  The first mask is loaded in a cycle of its own.
 *
 * Beats: N lane units (ws_lane_unit), one per lane, each holding its
 * sub-stream's bits and resolving at most one code per cycle from its own
 * registers (ws_canon_unit).  The registered mask of the current beat and
 * the lanes' registered flags (c < T, c + C < T, c == 0) place the beat's
 * chunks: lane l's first chunk is chunk number pos(l), the chunks of the
 * lanes below it (a parallel prefix count), at window offset C*pos(l).  A
 * cycle takes the chunks the window holds, at positions below R (R chunks
 * per cycle); a lane at its first code takes two when T > C, and a second
 * such lane in the same cycle ends the take after its first (its second is
 * taken next cycle, one shared path carrying the one second chunk).  The
 * beat completes (fires) in the cycle that takes its last chunks, when no
 * set lane is at its first code (c == 0: then the chunks go in first and
 * the beat fires in a cycle after) and the output queue has room: every set
 * lane decodes, from its registers, while the chunks go into the lanes'
 * slots, and the next beat's mask (L' bits at offset C*k, k the chunks
 * taken) is taken with them when the window holds it, else in a cycle of
 * its own.  Candidate lengths to the aligner (K = 2R + 3), all from
 * registered state: the header's field(s) or a mask alone (L); C*i (i
 * chunks: a chunk cycle, or a beat without the next mask) and C*i + L' (a
 * beat and the next mask) for i = 0..R; the cycle's chunk count picks one
 * late (with the window compares made for every i beforehand), never this
 * cycle's code lengths.  An invalid code holds nothing: the beat goes on
 * (into the sequencer and U) and error 7, raised the cycle after, flushes
 * it.
 *
 * After the loop: the lanes' code bits and binary lengths are registered
 * (U), their symbol indices (v + base(len) - first(len)) read the table
 * (V), and the beat (lane l's symbol in lane l, or 0) goes to the output
 * queue (ws_beat_queue, with the delta running sum for DELTA = 1), whose
 * registered credit keeps every ready path out of the loop.
 *
 * Errors (sticky until start_i; code on error_code_o): 1 truncated (a
 * header field, mask or chunk past the end once the final word is in),
 * 4 trailing data or nonzero fill (after the last beat: a lane's untaken
 * bits not all zero, or the stream's tail), 5 bad configuration, 6 bad
 * code table, 7 invalid code.  Found in stream order: within a beat the
 * mask, then the chunks, then the codes.
 */
module ws_lane_huffman_decoder #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // bus word bits (sizes the aligner count)
    parameter integer B     = 64,
    // longest code accepted (the golden model's MAX_CODE_LEN)
    parameter integer H     = 12,
    // chunk bits (C >= H)
    parameter integer C     = 12,
    // chunks taken per cycle at most
    parameter integer R     = (N + 1) / 2,
    // header counts taken per cycle at most
    parameter integer CPC   = 4,
    // symbol table word bits when the table is block RAM
    parameter integer TWB   = 16,
    // the largest symbol table (2^Q * Q bits) kept in flip-flops
    parameter integer FFT   = 256,
    // 1: the stream holds the delta along k (delta-lane-huffman)
    parameter integer DELTA = 0,
    // largest supported number of rows O
    parameter integer MAX_O = 1280,
    // aligner window bits: R chunks and a mask (and the header's fields)
    parameter integer WIN   = C*R + N > CPC*Q ? C*R + N : CPC*Q
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
    input  wire [WIN-1:0]                       win_data_i,
    // aligner window: number of buffered bits
    input  wire [$clog2(2*WIN+3*B+1)-1:0]       win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: candidate lengths, k in [k*CW +: CW]: 0 the header's
    // fields or a mask alone, 1 + i (i = 0..R) i chunks (a chunk cycle or a
    // beat without the next mask), R + 2 + i i chunks and the next mask
    output wire [(2*R+3)*$clog2(WIN+1)-1:0]     win_need_o,
    // aligner window: one-hot pick of the candidate consumed (or none)
    output wire [2*R+2:0]                       win_pick_o,
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
    // status: error code (0 none, 1, 4, 5, 6, 7 as above)
    output wire [3:0]                           error_code_o,
    // status: decode phase waiting for input bits
    output wire                                 starve_o
);

localparam integer CNT_W = $clog2(2*WIN + 3*B + 1);
localparam integer CW    = $clog2(WIN + 1);
localparam integer RW    = $clog2(MAX_O + 1);
localparam integer RBW   = $clog2(MAX_O + N + 1);
localparam integer LW    = $clog2(N + 1);
localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;
localparam integer LIM_W = H * (H + 3) / 2;
localparam integer HW    = $clog2(H + 1);
// chunk positions in a beat: 0..2N; chunks per cycle: 0..R
localparam integer PCW   = $clog2(2*N + 1);
localparam integer KW    = $clog2(R + 1);
// the symbol table: flip-flops, or a block RAM per lane with TS symbols a word
localparam integer TFF   = (1 << Q) * Q <= FFT ? 1 : 0;
localparam integer TSW   = TWB / Q >= 8 ? 8 : TWB / Q >= 4 ? 4 : TWB / Q >= 2 ? 2 : 1;
localparam integer TS    = TSW < (1 << Q) ? TSW : (1 << (Q - 1));
// header symbols per cycle: as many as the window holds into flip-flops
localparam integer SPC_FF = WIN / Q < (1 << Q) ? WIN / Q : (1 << Q);
localparam integer SPC   = TFF != 0 ? SPC_FF : TS;
// beats fired and not yet out of the output queue at most
localparam integer QD    = 4;
// the window padded so that every chunk (C bits at C*pos, pos <= R) and the
// next mask (at C*k, k <= R) are in range
localparam integer WX    = WIN + 2*C + N;

localparam [HW-1:0]  H_HW  = H[HW-1:0];
localparam [5:0]     C_6   = C[5:0];
// a code value at least Q bits wide
localparam integer VXW   = H > Q ? H : Q;
localparam [PCW-1:0] R_P   = R[PCW-1:0];

// parameter checks
generate
    if (N < 1 || Q < 2 || Q > 16 || B < 1 || H < 1 || H > 16 || C < H || 2*H + 2*C > 64 ||
        R < 1 || R > 2*N || CPC < 1 || CPC > H || WIN < C*R + N || WIN < CPC*Q || WIN < 5 ||
        MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_lane_huffman_decoder: need N >= 1, 2 <= Q <= 16, 1 <= H <= C, 2H + 2C <= 64, 1 <= R <= 2N, 1 <= CPC <= H, WIN >= C*R + N and CPC*Q, 1 <= MAX_O <= 65535");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// ---- sequencer -----------------------------------------------------------
wire           running;
wire [LW-1:0]  lanes;
wire [LW-1:0]  lanes_nx;
wire [TW-1:0]  tile;
wire           first;
wire           eoc;
wire           last;
wire [RW-1:0]  unused_rows;
wire [RBW-1:0] unused_rbase;
wire [RW-1:0]  unused_rleft;
wire [LW-1:0]  unused_lanes_nx_next;
reg            e_q;                 // an error found, raised now
reg  [3:0]     e_code_q;
wire           stop = e_q || error_o;
wire           seq_fire;            // a good beat completes
wire           wait_bits;           // the decoder needs bits the window lacks
wire           tail_ok;             // stream tail and lane fill checked

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
    .fire_i(seq_fire),
    .wait_i(wait_bits),
    .err_i(e_q),
    .err_code_i(e_code_q),
    .win_last_i(win_last_i),
    .win_tail_ok_i(tail_ok),
    .running_o(running),
    .rows_o(unused_rows),
    .tile_o(tile),
    .rbase_o(unused_rbase),
    .rleft_o(unused_rleft),
    .lanes_o(lanes),
    .lanes_nx_o(lanes_nx),
    .lanes_nx_next_o(unused_lanes_nx_next),
    .first_o(first),
    .eoc_o(eoc),
    .last_o(last),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o)
);

wire [CNT_W-1:0] avail = win_count_i;
wire             run   = running && !stop;

// ---- header ----------------------------------------------------------------
wire [CW-1:0]    h_need;
wire             h_take;
wire             h_wait;
wire             h_stall;
wire             h_err;
wire             h_done;
wire [4:0]       lmax;
wire [H-1:0]     len_en;
wire [LIM_W-1:0] lim;
wire [H*Q-1:0]   off;
wire             sym_we;
wire [Q-1:0]     sym_idx;
wire [SPC*Q-1:0] sym_data;

ws_huffman_header #(
    .Q(Q),
    .H(H),
    .CPC(CPC),
    .SPC(SPC),
    .WIN(WIN),
    .CNT_W(CNT_W),
    .CW(CW)
) u_hdr (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .en_i(run),
    .win_data_i(win_data_i),
    .win_count_i(win_count_i),
    .win_last_i(win_last_i),
    .need_o(h_need),
    .take_o(h_take),
    .stall_o(h_stall),
    .wait_o(h_wait),
    .err_o(h_err),
    .done_o(h_done),
    .lmax_o(lmax),
    .len_en_o(len_en),
    .lim_o(lim),
    .off_o(off),
    .sym_we_o(sym_we),
    .sym_idx_o(sym_idx),
    .sym_data_o(sym_data)
);

// T = 2 * lmax; registered: lmax != 0 and T > C (lanes take two chunks at
// their first code)
wire [5:0]       thr = {lmax, 1'b0};
reg              lmax_nz_q;
reg              two_q;
always @(posedge clk) begin
    lmax_nz_q <= lmax != 5'd0;
    two_q     <= thr > C_6;
end

// ---- the beat: chunks placed from registered state -------------------------
reg  [N-1:0]     mask_q;            // the current beat's mask (lanes >= L zero)
reg              mv_q;              // mask_q holds it
wire [N-1:0]     rf;                // lane: c < T
wire [N-1:0]     rf2;               // lane: c + C < T
wire [N-1:0]     fc;                // lane: c == 0
wire [N-1:0]     found;             // lane: its bits begin a code
wire [N-1:0]     zero;              // lane: its bits are all zero
wire             credit;

wire [N-1:0]     p1 = mask_q & rf;  // lanes taking a chunk
wire [N-1:0]     p2 = mask_q & rf2; // ... and a second one (at their first code)

// A cycle takes the second chunk of one lane only (d1, the lowest lane
// taking two); the take ends after the first chunk of the next lane
// taking two (d2), which takes its second in the next cycle (it then holds
// C < T bits: one chunk left to take).  A lane taking two chunks is at its
// first code (and p2 implies p1), so such a beat never fires in the cycle.
// s1[l] / s2[l]: one / two lanes below l take two chunks.
reg  [N-1:0]     s1;
reg  [N-1:0]     s2;
integer          sl;
always @* begin
    // OR reductions (trees), not a ripple through the lanes
    for (sl = 0; sl < N; sl = sl + 1) begin
        s1[sl] = (p2 & ({N{1'b1}} >> (N - sl))) != {N{1'b0}};
    end
    for (sl = 0; sl < N; sl = sl + 1) begin
        s2[sl] = (p2 & s1 & ({N{1'b1}} >> (N - sl))) != {N{1'b0}};
    end
end

// each lane's first chunk position: the first chunks of the lanes below it
// (a parallel prefix count, Sklansky), and d1's second if d1 is below it;
// every sum a wire of its own (g_pf[k].g_n[n].s: level k, the sum over
// lane n's block of 2^k lanes up to n), so a simulator adds small words
localparam integer LG = N > 1 ? $clog2(N) : 1;
genvar gk;
genvar gn;
generate
    for (gk = 0; gk <= LG; gk = gk + 1) begin : g_pf
        for (gn = 0; gn < N; gn = gn + 1) begin : g_n
            wire [PCW-1:0] s;
            if (gk == 0) begin : g_leaf
                assign s = {{(PCW-1){1'b0}}, p1[gn]};
            end else if ((gn >> (gk-1)) % 2 == 1) begin : g_add
                // the upper half of each block of 2^k adds its lower half's last
                assign s = g_pf[gk-1].g_n[gn].s +
                           g_pf[gk-1].g_n[((gn >> gk) << gk) + (1 << (gk-1)) - 1].s;
            end else begin : g_keep
                assign s = g_pf[gk-1].g_n[gn].s;
            end
        end
    end
endgenerate

// pos_a[l]: lane l's first chunk position; d1_pos: d1's (an OR over the
// lanes, at most one selected)
wire [PCW-1:0]   pos_a [0:N-1];
genvar gp;
generate
    for (gp = 0; gp < N; gp = gp + 1) begin : g_pos
        // the OR up to lane gp
        wire [PCW-1:0] d1;
        if (gp == 0) begin : g_first
            assign pos_a[gp] = {PCW{1'b0}};
            assign d1        = {PCW{p2[gp] && !s1[gp]}} & pos_a[gp];
        end else begin : g_rest
            assign pos_a[gp] = g_pf[LG].g_n[gp-1].s + {{(PCW-1){1'b0}}, s1[gp]};
            assign d1        = g_pos[gp-1].d1 | ({PCW{p2[gp] && !s1[gp]}} & pos_a[gp]);
        end
    end
endgenerate
wire [PCW-1:0]   d1_pos = g_pos[N-1].d1;
// the count over all the lanes is not used
wire             unused_pf = ^g_pf[LG].g_n[N-1].s;

// the chunks of this cycle before the cut (or of the beat, without a d2):
// a balanced adder tree over the lanes, g_kt[j].g_n[i].s the sum over
// lanes i .. i + 2^j - 1 (i a multiple of 2^j)
generate
    for (gk = 0; gk <= LG; gk = gk + 1) begin : g_kt
        for (gn = 0; gn < N; gn = gn + (1 << gk)) begin : g_n
            wire [PCW-1:0] s;
            if (gk == 0) begin : g_leaf
                assign s = {{(PCW-1){1'b0}}, p1[gn] && !s2[gn]};
            end else if (gn + (1 << (gk-1)) < N) begin : g_add
                assign s = g_kt[gk-1].g_n[gn].s + g_kt[gk-1].g_n[gn + (1 << (gk-1))].s;
            end else begin : g_keep
                assign s = g_kt[gk-1].g_n[gn].s;
            end
        end
    end
endgenerate
wire [PCW-1:0]   k_rem = g_kt[LG].g_n[0].s + {{(PCW-1){1'b0}}, p2 != {N{1'b0}}};

wire             all_fit = k_rem <= R_P;
wire [KW-1:0]    k_now   = all_fit ? k_rem[KW-1:0] : R_P[KW-1:0];
wire             blk     = lmax_nz_q && (mask_q & fc) != {N{1'b0}};

// The candidate lengths, all from registered state: 0 the header's fields
// or a mask alone; 1 + i, i = 0..R: i chunks (a chunk cycle, or a beat
// without the next mask); R + 2 + i: i chunks and the next mask.  The
// aligner works out its pointer and slots for each beforehand; the cycle's
// chunk count k picks one of them late, with the compares against the
// window count also made for every i beforehand.
wire [CW-1:0]    lanes_c  = {{(CW-LW){1'b0}}, lanes};
wire [CW-1:0]    lanes_nc = {{(CW-LW){1'b0}}, lanes_nx};
wire [CW-1:0]    need_a   = h_done ? lanes_c : h_need;
wire [CNT_W-1:0] need_a_x = {{(CNT_W-CW){1'b0}}, need_a};
reg  [(R+1)*CW-1:0] need_b;
reg  [(R+1)*CW-1:0] need_c;
reg  [31:0]      ci_x;              // C * i
reg  [R:0]       enough_v;          // the window holds i chunks
reg  [R:0]       nx_v;              // ... and the next mask
reg  [R:0]       k1h;               // k_now, one-hot
integer          ki;
always @* begin
    for (ki = 0; ki <= R; ki = ki + 1) begin
        ci_x = ki * C;
        need_b[ki*CW +: CW] = ci_x[CW-1:0];
        need_c[ki*CW +: CW] = ci_x[CW-1:0] + lanes_nc;
        enough_v[ki] = avail >= {{(CNT_W-CW){1'b0}}, need_b[ki*CW +: CW]};
        nx_v[ki]     = avail >= {{(CNT_W-CW){1'b0}}, need_c[ki*CW +: CW]};
        k1h[ki]      = k_now == ki[KW-1:0];
    end
end
// only the low bits of C * i are kept (it is at most WIN)
wire             unused_ci = ^ci_x;

wire             in_beats = run && h_done;
wire             b_go     = in_beats && mv_q;
// the chunks the window holds, up to R: a thermometer (enough_v[i]: i
// chunks) and the count, all from registers; the chunks taken now are
// those the window holds, in stream order (a lane's chunk at position p
// when the window holds p + 1), so a lane's take does not wait for the
// beat's chunk count
reg  [KW-1:0]    a_cnt;
integer          ai;
always @* begin
    a_cnt = {KW{1'b0}};
    for (ai = 1; ai <= R; ai = ai + 1) begin
        if (enough_v[ai]) begin
            a_cnt = ai[KW-1:0];
        end
    end
end
// the chunks taken: min(k_now, a_cnt), one-hot
wire [KW-1:0]    j_now    = k_now <= a_cnt ? k_now : a_cnt;
reg  [R:0]       j1h;
integer          ji;
always @* begin
    for (ji = 0; ji <= R; ji = ji + 1) begin
        j1h[ji] = j_now == ji[KW-1:0];
    end
end
wire             nx_ok    = (k1h & nx_v) != {(R+1){1'b0}} && !last;
wire             load     = in_beats && !mv_q && avail >= need_a_x;
// a beat completes taking all its chunks (the window holds them), with no
// lane at its first code and room in the output queue
wire             fire     = b_go && all_fit && !blk && credit && k_now <= a_cnt;
wire             chunk    = b_go && j_now != {KW{1'b0}} && !fire;
wire [N-1:0]     dec      = {N{fire}} & mask_q;
wire             inv      = fire && (mask_q & ~found) != {N{1'b0}};

// a beat with an invalid code advances the sequencer and enters U all the
// same (the loop never waits for the code compares): error 7 is raised in
// the next cycle and flushes it (also when it was the layer's last beat:
// the sequencer's end check gives way to the error)
assign seq_fire   = fire;
assign win_need_o = {need_c, need_b, need_a};
assign win_pick_o = {{(R+1){fire && nx_ok}} & j1h, {(R+1){(fire && !nx_ok) || chunk}} & j1h, load || h_take};
assign win_en_o   = running;
// the beat waits for bits while the window lacks one of the chunks it takes
// now (it takes those it has), or a mask
wire             b_wait = in_beats && (mv_q ? j_now < k_now : !(avail >= need_a_x));
assign wait_bits  = h_wait || b_wait;
// the lanes' fill, looked at only with the stream's tail (an if: a
// simulator skips the N lane checks until then)
reg              tail_ok_c;
always @* begin
    tail_ok_c = 1'b0;
    if (win_tail_ok_i) begin
        tail_ok_c = zero == {N{1'b1}};
    end
end
assign tail_ok    = tail_ok_c;

// the window, padded: lane slices and the next mask read zeros past its end
wire [WX-1:0]    win_x = {{(WX-WIN){1'b0}}, win_data_i};
// the padding past the last chunk and mask read is not used
wire             unused_wx = ^win_x;

// lanes < L of the mask's beat: the current beat's for a mask loaded
// alone, the next beat's for a mask loaded with a beat
// (thermometers: a one shifted out for every lane below L)
wire [N-1:0]     en_cur = ~({N{1'b1}} << lanes);
wire [N-1:0]     en_nx  = ~({N{1'b1}} << lanes_nx);

// the next beat's mask, after the k chunks taken now (k <= R; an indexed
// select as the chunks')
wire [N-1:0]     nxm [0:(1<<KW)-1];
genvar gm;
generate
    for (gm = 0; gm < (1 << KW); gm = gm + 1) begin : g_nxm
        if (gm <= R) begin : g_in
            assign nxm[gm] = win_x[gm*C +: N];
        end else begin : g_out
            assign nxm[gm] = {N{1'b0}};
        end
    end
endgenerate
wire [N-1:0]     nx_mask = nxm[k_now];

always @(posedge clk) begin
    if (rst || start_i) begin
        mv_q   <= 1'b0;
        mask_q <= {N{1'b0}};
    end else begin
        if (load) begin
            mv_q   <= 1'b1;
            mask_q <= win_data_i[N-1:0] & en_cur;
        end else if (fire) begin
            mv_q   <= nx_ok;
            mask_q <= nx_mask & en_nx;
        end
    end
end

// errors, registered: the loop stops the cycle after
always @(posedge clk) begin
    if (rst || start_i) begin
        e_q      <= 1'b0;
        e_code_q <= `WS_ERR_NONE;
    end else if (h_err) begin
        e_q      <= 1'b1;
        e_code_q <= `WS_ERR_BAD_CODE;
    end else if (inv) begin
        e_q      <= 1'b1;
        e_code_q <= `WS_ERR_INVALID_CODE;
    end
end

// ---- the lanes ---------------------------------------------------------------
wire [N*H-1:0]   code;              // each lane's next H bits, most significant first
wire [N*H-1:0]   unused_front;      // ... and in stream order (the module's bench)
wire [N*HW-1:0]  len_b;
// the window's chunks by position, for an indexed select (a multiplexer on
// the position; a simulator reads an array): wch[i] the chunk at position i
// and wch2[i] the one after it (i < R, else 0); hv1[i]: the window holds
// i + 1 chunks (i < R); hv2[i]: ... and i + 2 (i + 1 < R)
localparam integer PN = 1 << PCW;
wire [C-1:0]     wch  [0:PN-1];
wire [C-1:0]     wch2 [0:PN-1];
wire [PN-1:0]    hv1;
wire [PN-1:0]    hv2;
genvar gw;
generate
    for (gw = 0; gw < PN; gw = gw + 1) begin : g_wch
        if (gw < R) begin : g_in
            assign wch[gw]  = win_x[gw*C +: C];
            assign wch2[gw] = win_x[(gw + 1)*C +: C];
            assign hv1[gw]  = enough_v[gw+1];
        end else begin : g_out
            assign wch[gw]  = {C{1'b0}};
            assign wch2[gw] = {C{1'b0}};
            assign hv1[gw]  = 1'b0;
        end
        if (gw + 1 < R) begin : g_in2
            assign hv2[gw] = enough_v[gw+2];
        end else begin : g_out2
            assign hv2[gw] = 1'b0;
        end
    end
endgenerate
// the chunk after d1's first: the second chunk of the one lane taking two
wire [C-1:0]     chunk2 = wch2[d1_pos];

// lanes taking a first chunk (before the cut) and a second one, if the
// window holds them
wire [N-1:0]     t1v = {N{b_go}} & p1 & ~s2;
wire [N-1:0]     t2v = {N{b_go}} & p2 & ~s1;

genvar gl;
generate
    for (gl = 0; gl < N; gl = gl + 1) begin : g_lane
        wire [PCW-1:0] p    = pos_a[gl];
        // the window holds the lane's chunk (p + 1 chunks), and its second
        wire           have1 = hv1[p];
        wire           have2 = hv2[p];
        wire           tk1  = t1v[gl] && have1;
        wire           tk2  = t2v[gl] && have2;
        // the window's chunk at the lane's position
        wire [C-1:0]   slice = wch[p];
        ws_lane_unit #(
            .H(H),
            .C(C),
            .LIM_W(LIM_W)
        ) u_lane (
            .clk(clk),
            .rst(rst),
            .clear_i(start_i),
            .lim_i(lim),
            .len_en_i(len_en),
            .thr_i(thr),
            .two_i(two_q),
            .tk1_i(tk1),
            .tk2_i(tk2),
            .chunk_i(slice),
            .chunk2_i(chunk2),
            .dec_i(dec[gl]),
            .front_o(unused_front[gl*H +: H]),
            .code_o(code[gl*H +: H]),
            .len_o(len_b[gl*HW +: HW]),
            .found_o(found[gl]),
            .rf_o(rf[gl]),
            .rf2_o(rf2[gl]),
            .first_o(fc[gl]),
            .zero_o(zero[gl])
        );
    end
endgenerate

// ---- U: the beat's codes; V: the table read ------------------------------------
reg              u_v_q;             // a good beat in U
reg  [N-1:0]     u_dec_q;           // its coded lanes
reg  [N*H-1:0]   u_code_q;          // each lane's code bits, most significant first
reg  [N*HW-1:0]  u_len_q;           // each lane's code length
reg  [TW+2:0]    u_side_q;          // tile, first, eoc, last
reg              v_v_q;
reg  [N-1:0]     v_dec_q;
reg  [TW+2:0]    v_side_q;
wire             flush = start_i || error_o;

always @(posedge clk) begin
    if (rst || flush) begin
        u_v_q <= 1'b0;
        v_v_q <= 1'b0;
    end else begin
        u_v_q <= seq_fire;
        v_v_q <= u_v_q;
    end
end

always @(posedge clk) begin
    if (fire) begin
        u_dec_q   <= mask_q;
        u_code_q  <= code;
        u_len_q   <= len_b;
        u_side_q  <= {tile, first, eoc, last};
    end
    v_dec_q  <= u_dec_q;
    v_side_q <= u_side_q;
end

// each lane's symbol index: v (its first len bits, MSB first) + base(len)
// - first(len), mod 2^Q

// the offsets by length, for an indexed select (0 for no length)
wire [Q-1:0]     off_a [0:(1<<HW)-1];
genvar go;
generate
    for (go = 0; go < (1 << HW); go = go + 1) begin : g_off
        if (go >= 1 && go <= H) begin : g_in
            assign off_a[go] = off[(go-1)*Q +: Q];
        end else begin : g_out
            assign off_a[go] = {Q{1'b0}};
        end
    end
endgenerate
wire [N*Q-1:0]   ridx;

generate
    for (gl = 0; gl < N; gl = gl + 1) begin : g_idx
        // the code bits (most significant first), right-aligned
        wire [H-1:0]  f  = u_code_q[gl*H +: H];
        wire [HW-1:0] ln = u_len_q[gl*HW +: HW];
        wire [H-1:0]  v     = f >> (H_HW - ln);
        // the offset of its length (a coded lane's length is 1..H)
        wire [Q-1:0]  o_sel = off_a[ln];
        wire [VXW-1:0] v_x;
        if (VXW > H) begin : g_v_wide
            assign v_x = {{(VXW-H){1'b0}}, v};
        end else begin : g_v
            assign v_x = v;
        end
        assign ridx[gl*Q +: Q] = v_x[Q-1:0] + o_sel;
        if (VXW > Q) begin : g_unused_v
            // only v's low Q bits index the table
            wire unused_v = ^v_x[VXW-1:Q];
        end
    end
endgenerate

wire [N*Q-1:0]   rdata;

generate
    if (TFF != 0) begin : g_tbl_ff
        ws_sym_table_ff #(
            .N(N),
            .Q(Q),
            .SPC(SPC)
        ) u_tbl (
            .clk(clk),
            .we_i(sym_we),
            .widx_i(sym_idx),
            .wdata_i(sym_data),
            .ridx_i(ridx),
            .rdata_o(rdata)
        );
    end else begin : g_tbl_ram
        ws_sym_table_ram #(
            .N(N),
            .Q(Q),
            .SPC(SPC)
        ) u_tbl (
            .clk(clk),
            .we_i(sym_we),
            .widx_i(sym_idx),
            .wdata_i(sym_data),
            .ridx_i(ridx),
            .rdata_o(rdata)
        );
    end
endgenerate

// V's values in their lanes (an uncoded lane is 0)
reg  [N*Q-1:0]   v_beat;
integer          vl;
always @* begin
    for (vl = 0; vl < N; vl = vl + 1) begin
        v_beat[vl*Q +: Q] = {Q{v_dec_q[vl]}} & rdata[vl*Q +: Q];
    end
end

// ---- the output queue ----------------------------------------------------------
wire             q_busy;

ws_beat_queue #(
    .N(N),
    .Q(Q),
    .MAX_O(MAX_O),
    .QD(QD),
    .DELTA(DELTA),
    .TW(TW)
) u_queue (
    .clk(clk),
    .rst(rst),
    .flush_i(flush),
    .hold_i(error_o),
    .fire_i(seq_fire),
    .credit_o(credit),
    .push_i(v_v_q),
    .s_data_i(v_beat),
    .s_tile_i(v_side_q[3 +: TW]),
    .s_first_i(v_side_q[2]),
    .s_eoc_i(v_side_q[1]),
    .s_last_i(v_side_q[0]),
    .m_data_o(m_beat_data_o),
    .m_tile_o(m_beat_tile_o),
    .m_first_o(m_beat_first_o),
    .m_eoc_o(m_beat_eoc_o),
    .m_last_o(m_beat_last_o),
    .m_valid_o(m_beat_valid_o),
    .m_ready_i(m_beat_ready_i),
    .busy_o(q_busy)
);

assign busy_o   = running || u_v_q || v_v_q || q_busy;
assign starve_o = h_stall || b_wait;

endmodule

`resetall
`default_nettype wire
