// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream bitmap-huffman decoder (and delta-bitmap-huffman, DELTA = 1)
 *
 * The stream opens with the layer's canonical Huffman code: lmax (5 bits),
 * the number of codes of each length 1..lmax (Q bits each), the symbols in
 * canonical order (Q bits each).  Then per beat L mask bits and the set
 * lanes' codes, most significant code bit first, in increasing lane order
 * (docs/stream-formats.md).
 *
 * Header phase, one field per cycle: lmax (> H: error 6); each count c_l
 * gives limit(l) = first(l) + c_l, the code values of length l lying in
 * [first(l), limit(l)), and the symbol index offset base(l) - first(l)
 * (registers per length); first(l + 1) = 2 * limit(l).  A count that makes
 * limit(l) > 2^l (over-subscribed), more than 2^Q codes, or a last limit
 * short of 2^lmax (incomplete, but for one code of length 1) is error 6.
 * The symbols are written to the table, one per cycle (a memory of 2^Q
 * entries with synchronous reads: block RAM).
 *
 * Beat phase, the one-cycle loop: a beat's mask is loaded from the window
 * (with the first codes, in the same cycle), then S decode units take the
 * lowest S set lanes left, unit j at the window offset where unit j-1's
 * code ended, as long as its code ends within the window (WIN = N + W bits,
 * W >= H: the first code of a cycle always fits).  A unit's code length is
 * the least l <= lmax with v_l < limit(l) (v_l: its first l bits, MSB
 * first; a canonical code needs no lower compare; limit(l) <= 2^l is kept
 * at l + 1 bits), its symbol index v_l + base(l) - first(l) (one add after
 * a one-hot pick of the length).  The units are chained: the consumed bits
 * (L when the mask loads, plus the decoded codes' lengths) go back to the
 * aligner as one late length.  A beat takes at least one cycle, and as
 * many as its greedy walk needs (golden model: huffman::loop_cycles).  The units'
 * lanes and indices are registered (U), the table read (V: S synchronous
 * read ports), and the values placed in their lanes of the assembling
 * beat; a beat complete in V goes to a 4-beat output queue.  The loop
 * completes a beat only while fewer than 4 are in U, V and the queue (a
 * registered count), so no ready path reaches the loop.  DELTA = 1 adds the
 * running sum along k (ws_delta_stage) after the queue.
 *
 * A code that the window's bits (lmax of them) do not begin is error 7;
 * codes, counts and fields cut by the end of the stream are error 1 (the
 * shared ws_beat_sequencer raises it while the loop waits for bits with
 * the final word in).  Errors are found in stream order and registered: the
 * loop stops the cycle they are found, the sticky code follows a cycle
 * later.
 *
 * Errors (sticky until start_i; code on error_code_o): 1 truncated,
 * 4 trailing data, 5 bad configuration, 6 bad code table, 7 invalid code.
 */
module ws_huffman_decoder #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // bus word bits (sizes the aligner count)
    parameter integer B     = 64,
    // longest code accepted (the golden model's MAX_CODE_LEN)
    parameter integer H     = 12,
    // codes decoded per cycle at most
    parameter integer S     = 4,
    // 1: the stream holds the delta along k (delta-bitmap-huffman)
    parameter integer DELTA = 0,
    // largest supported number of rows O
    parameter integer MAX_O = 1280,
    // aligner window bits: a mask and at least one code (and a header
    // field); the units stop at the first code that does not end in it
    parameter integer WIN   = (N + 2*H) > Q ? N + 2*H : Q
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
    // aligner window: the bits consumed this cycle (when win_pick_o)
    output wire [$clog2(WIN+1)-1:0]             win_need_o,
    // aligner window: consume win_need_o bits this cycle
    output wire                                 win_pick_o,
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
// code length values 0..H
localparam integer HW    = $clog2(H + 1);
// header arithmetic: first + count, up to 2^H + 2^Q
localparam integer XW    = (H > Q ? H : Q) + 2;
// a code's value v_l and a symbol index at one width
localparam integer VW    = H > Q ? H : Q;
// beats in U, V and the output queue at most
localparam integer QD    = 4;
localparam integer QDW   = $clog2(QD + 1);
// the beat record: lanes, tile, first, eoc, last
localparam integer OUT_W = N*Q + TW + 3;

localparam [1:0] PH_LMAX  = 2'd0;   // lmax is next
localparam [1:0] PH_COUNT = 2'd1;   // the count of length hl_q is next
localparam [1:0] PH_SYM   = 2'd2;   // symbol widx_q is next
localparam [1:0] PH_BEATS = 2'd3;   // beats

localparam [CNT_W-1:0] Q_CN   = Q[CNT_W-1:0];
localparam [CNT_W-1:0] FIVE_CN = 5;
localparam [CW-1:0]    Q_C    = Q[CW-1:0];
localparam [CW-1:0]    FIVE_C = 5;
localparam [4:0]       H_5    = H[4:0];
localparam [QDW-1:0]   QD_Q   = QD[QDW-1:0];
localparam [CW:0]      WIN_C1 = WIN[CW:0];

// parameter checks
generate
    if (N < 1 || Q < 2 || Q > 16 || B < 1 || H < 1 || H > 16 || S < 1 || S > N ||
        WIN < N + H || WIN < Q || MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_huffman_decoder: need N >= 1, 2 <= Q <= 16, 1 <= H <= 16, 1 <= S <= N, WIN >= N + H and Q, 1 <= MAX_O <= 65535");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// ---- sequencer -----------------------------------------------------------
wire           running;
wire [LW-1:0]  lanes;
wire [TW-1:0]  tile;
wire           first;
wire           eoc;
wire           last;
wire [RW-1:0]  unused_rows;
wire [RBW-1:0] unused_rbase;
wire [RW-1:0]  unused_rleft;
wire [LW-1:0]  unused_lanes_nx;
wire [LW-1:0]  unused_lanes_nx_next;
reg            e_q;                 // an error found, raised now
reg  [3:0]     e_code_q;
wire           stop = e_q || error_o;
wire           fire;                // the loop completes a beat
wire           wait_bits;           // the loop needs bits the window lacks

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
    .wait_i(wait_bits),
    .err_i(e_q),
    .err_code_i(e_code_q),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
    .running_o(running),
    .rows_o(unused_rows),
    .tile_o(tile),
    .rbase_o(unused_rbase),
    .rleft_o(unused_rleft),
    .lanes_o(lanes),
    .lanes_nx_o(unused_lanes_nx),
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

// ---- header phase --------------------------------------------------------
reg [1:0]      ph_q;
reg [4:0]      lmax_q;              // longest code length of the layer
reg [4:0]      hl_q;                // the length whose count is next
reg [XW-1:0]   hfirst_q;            // first(hl_q)
reg [Q:0]      hbase_q;             // codes of lengths < hl_q
reg [Q:0]      sym_left_q;          // symbols still to load
reg [Q-1:0]    widx_q;              // table entry of the next symbol
// limit(l) <= 2^l, l + 1 bits: g_lim[l].lim_q (below)
reg [H*Q-1:0]  off_q;               // base(l) - first(l) mod 2^Q, [(l-1)*Q +: Q]
reg [H-1:0]    len_en_q;            // bit l-1: l <= lmax
reg [Q-1:0]    tbl [0:(1<<Q)-1];    // symbols by canonical index

wire [4:0]     f_lmax  = win_data_i[4:0];
wire [Q-1:0]   f_field = win_data_i[Q-1:0];
wire [XW-1:0]  h_cnt   = {{(XW-Q){1'b0}}, f_field};
wire [XW-1:0]  h_lim   = hfirst_q + h_cnt;
wire [XW-1:0]  h_pow   = {{(XW-1){1'b0}}, 1'b1} << hl_q;
wire [Q+1:0]   h_total = {1'b0, hbase_q} + {2'b0, f_field};
wire [Q+1:0]   q_pow   = {2'b01, {Q{1'b0}}};
wire           h_last  = hl_q == lmax_q;
wire           h_one   = lmax_q == 5'd1 && f_field == {{(Q-1){1'b0}}, 1'b1};
wire           h_over  = h_lim > h_pow || h_total > q_pow;
wire           h_incpl = h_last && h_lim != h_pow && !h_one;
wire           ok_lmax = avail >= FIVE_CN;
// the lengths a layer's codes may have: 1 .. lmax
reg  [H-1:0]   len_en;
integer        le;
always @* begin
    for (le = 0; le < H; le = le + 1) begin
        len_en[le] = le[4:0] < f_lmax;
    end
end
wire           ok_q    = avail >= Q_CN;

// ---- beat phase: the loop ------------------------------------------------
reg  [N-1:0]   mrem_q;              // lanes of the beat still to decode
reg            mv_q;                // a beat's mask is loaded
reg  [QDW-1:0] outst_q;             // beats completed, not yet out of the queue
wire           credit = outst_q < QD_Q;

// lanes < L
wire [N-1:0]   lane_th;
genvar gl;
generate
    for (gl = 0; gl < N; gl = gl + 1) begin : g_th
        localparam [LW-1:0] L_IDX = gl;
        assign lane_th[gl] = L_IDX < lanes;
    end
endgenerate

wire [CNT_W-1:0] lanes_cn = {{(CNT_W-LW){1'b0}}, lanes};
wire             mask_in  = mv_q || avail >= lanes_cn;
wire [N-1:0]     mask0    = mv_q ? mrem_q : (win_data_i[N-1:0] & lane_th);
wire [CW-1:0]    off0     = mv_q ? {CW{1'b0}} : {{(CW-LW){1'b0}}, lanes};
// the window padded, so that a code past its end reads zeros (never used:
// WIN holds a mask and S codes of at most H bits)
wire [WIN+H-1:0] win_x    = {{H{1'b0}}, win_data_i};


genvar gj;
generate
    for (gj = 0; gj < S; gj = gj + 1) begin : g_unit
        wire [N-1:0]  m_in;             // lanes left before this unit
        wire [CW-1:0] o_in;             // its code's window offset
        wire          ok_in;            // the units before it decoded
        if (gj == 0) begin : g_first
            assign m_in  = mask0;
            assign o_in  = off0;
            assign ok_in = mask_in;
        end else begin : g_next
            assign m_in  = g_unit[gj-1].m_out;
            assign o_in  = g_unit[gj-1].o_out;
            assign ok_in = g_unit[gj-1].dec;
        end
        // the code's first H bits, reversed: x_r[H-1] is its first bit
        wire [WIN+H-1:0] x_sh = win_x >> o_in;
        wire [H-1:0]     x    = x_sh[H-1:0];
        wire             unused_x = ^x_sh[WIN+H-1:H];
        wire [H-1:0] x_r;
        genvar gb;
        for (gb = 0; gb < H; gb = gb + 1) begin : g_rev
            assign x_r[H-1-gb] = x[gb];
        end
        // per length l: its first l bits v_l (MSB first) below limit(l),
        // compared at l + 1 bits (limit(l) <= 2^l); the least such l wins
        wire [H-1:0]   hit;
        wire [H*Q-1:0] vq_all;          // v_l's low Q bits, [(l-1)*Q +: Q]
        genvar         gk;
        for (gk = 1; gk <= H; gk = gk + 1) begin : g_len
            wire [gk-1:0] v_l = x_r[H-1 -: gk];
            assign hit[gk-1] = len_en_q[gk-1] && {1'b0, v_l} < g_lim[gk].lim_q;
            wire [VW-1:0] v_x = {{(VW-gk){1'b0}}, v_l};
            assign vq_all[(gk-1)*Q +: Q] = v_x[Q-1:0];
            wire          unused_v = ^v_x;
        end
        wire [H-1:0] pick  = hit & (~hit + {{(H-1){1'b0}}, 1'b1});
        wire         found = |hit;
        // the code's length, value and index offset by the one-hot pick,
        // then one add for the index
        reg  [HW-1:0] len;
        reg  [Q-1:0]  v_sel;
        reg  [Q-1:0]  o_sel;
        integer       k;
        always @* begin
            len   = {HW{1'b0}};
            v_sel = {Q{1'b0}};
            o_sel = {Q{1'b0}};
            for (k = 0; k < H; k = k + 1) begin
                if (pick[k]) begin
                    len   = len | (k[HW-1:0] + {{(HW-1){1'b0}}, 1'b1});
                end
                v_sel = v_sel | ({Q{pick[k]}} & vq_all[k*Q +: Q]);
                o_sel = o_sel | ({Q{pick[k]}} & off_q[k*Q +: Q]);
            end
        end
        wire [Q-1:0] idx = v_sel + o_sel;
        wire [CW:0]      end_c  = {1'b0, o_in} + {{(CW+1-HW){1'b0}}, len};
        wire [CW:0]      end_l  = {1'b0, o_in} + {{(CW-4){1'b0}}, lmax_q};
        wire [CNT_W:0]   avail_x = {1'b0, avail};
        wire             act    = ok_in && m_in != {N{1'b0}};
        // a code past the window waits for the next cycle (the first unit's
        // never is: WIN >= N + H); a match ending in the window used only
        // window bits, so it is the code whatever follows
        wire             dec    = act && found && {{(CNT_W-CW){1'b0}}, end_c} <= avail_x && end_c <= WIN_C1;
        wire             inv    = act && !found && {{(CNT_W-CW){1'b0}}, end_l} <= avail_x && end_l <= WIN_C1;
        // its lane, one-hot: the lowest lane left
        wire [N-1:0]     lane   = m_in & (~m_in + {{(N-1){1'b0}}, 1'b1});
        wire [N-1:0]     m_out  = dec ? (m_in & ~lane) : m_in;
        wire [CW-1:0]    o_out  = dec ? end_c[CW-1:0] : o_in;
    end
endgenerate

wire [N-1:0]  m_last   = g_unit[S-1].m_out;
wire [CW-1:0] beat_len = g_unit[S-1].o_out;
// the units' results as vectors
wire [S-1:0] inv_v;
wire [S-1:0] dec_v;
wire [S*N-1:0]   lane_v;
wire [S*Q-1:0]   idx_v;
generate
    for (gj = 0; gj < S; gj = gj + 1) begin : g_units_out
        assign inv_v[gj]              = g_unit[gj].inv;
        assign dec_v[gj]              = g_unit[gj].dec;
        assign lane_v[gj*N +: N]      = g_unit[gj].lane;
        assign idx_v[gj*Q +: Q]       = g_unit[gj].idx;
    end
endgenerate

wire inv_any = |inv_v;

wire in_beats  = run && ph_q == PH_BEATS;
wire complete  = mask_in && m_last == {N{1'b0}} && !inv_any;
wire progress  = (!mv_q && mask_in) || dec_v[0];
assign fire    = in_beats && credit && complete;
wire   b_take  = in_beats && credit && progress && !inv_any;

// header actions
wire   h_take_l = run && ph_q == PH_LMAX && ok_lmax;
wire   h_take_c = run && ph_q == PH_COUNT && ok_q;
wire   h_take_s = run && ph_q == PH_SYM && ok_q;
wire   h_err    = (h_take_l && f_lmax > H_5) || (h_take_c && (h_over || h_incpl));

assign wait_bits = run && (ph_q == PH_LMAX ? !ok_lmax :
                           ph_q == PH_BEATS ? (!mask_in || (mask0 != {N{1'b0}} && !dec_v[0] && !inv_v[0])) :
                           !ok_q);

assign win_need_o = ph_q == PH_LMAX ? FIVE_C : ph_q == PH_BEATS ? beat_len : Q_C;
assign win_pick_o = (h_take_l || h_take_c || h_take_s) && !h_err || b_take;
assign win_en_o   = running;

always @(posedge clk) begin
    if (rst || start_i) begin
        ph_q     <= PH_LMAX;
        e_q      <= 1'b0;
        e_code_q <= `WS_ERR_NONE;
        mv_q     <= 1'b0;
        mrem_q   <= {N{1'b0}};
        lmax_q   <= 5'd0;
        len_en_q <= {H{1'b0}};
        hl_q     <= 5'd1;
        hfirst_q <= {XW{1'b0}};
        hbase_q  <= {(Q+1){1'b0}};
    end else begin
        if (h_err) begin
            e_q      <= 1'b1;
            e_code_q <= `WS_ERR_BAD_CODE;
        end else if (in_beats && credit && inv_any) begin
            e_q      <= 1'b1;
            e_code_q <= `WS_ERR_INVALID_CODE;
        end
        if (h_take_l && !h_err) begin
            lmax_q   <= f_lmax;
            len_en_q <= len_en;
            hl_q     <= 5'd1;
            hfirst_q <= {XW{1'b0}};
            hbase_q  <= {(Q+1){1'b0}};
            ph_q     <= f_lmax == 5'd0 ? PH_BEATS : PH_COUNT;
        end
        if (h_take_c && !h_err) begin
            hfirst_q <= {h_lim[XW-2:0], 1'b0};
            hbase_q  <= h_total[Q:0];
            hl_q     <= hl_q + 5'd1;
            if (h_last) begin
                ph_q <= PH_SYM;
            end
        end
        if (h_take_s && sym_left_q == {{Q{1'b0}}, 1'b1}) begin
            ph_q <= PH_BEATS;
        end
        if (b_take) begin
            mv_q   <= !complete;
            mrem_q <= m_last;
        end
    end
end

// per-length registers and the table, no reset: written before use
genvar gm;
generate
    for (gm = 1; gm <= H; gm = gm + 1) begin : g_lim
        reg [gm:0] lim_q;
        always @(posedge clk) begin
            if (h_take_c && hl_q == gm) begin
                lim_q <= h_lim[gm:0];
            end
        end
    end
endgenerate

integer hi;
always @(posedge clk) begin
    if (h_take_c) begin
        for (hi = 1; hi <= H; hi = hi + 1) begin
            if (hl_q == hi[4:0]) begin
                off_q[(hi-1)*Q +: Q]   <= hbase_q[Q-1:0] - hfirst_q[Q-1:0];
            end
        end
    end
    if (h_take_c && h_last) begin
        sym_left_q <= h_total[Q:0];
        widx_q     <= {Q{1'b0}};
    end
    if (h_take_s) begin
        tbl[widx_q] <= f_field;
        sym_left_q  <= sym_left_q - {{Q{1'b0}}, 1'b1};
        widx_q      <= widx_q + {{(Q-1){1'b0}}, 1'b1};
    end
end

// ---- U: the units' lanes and indices; V: the table read -------------------
reg  [S-1:0]     u_dec_q;
reg  [S*N-1:0]   u_lane_q;          // each unit's lane, one-hot
reg  [S*Q-1:0]   u_idx_q;
reg              u_done_q;
reg  [TW+2:0]    u_side_q;          // tile, first, eoc, last
reg  [S-1:0]     v_dec_q;
reg  [S*N-1:0]   v_lane_q;
reg  [S*Q-1:0]   v_val_q;
reg              v_done_q;
reg  [TW+2:0]    v_side_q;
reg  [N*Q-1:0]   acc_q;             // the assembling beat's values so far
reg  [N*Q-1:0]   placed;            // ... with V's values in their lanes
wire             flush = start_i || error_o;

always @(posedge clk) begin
    if (rst || flush) begin
        u_dec_q  <= {S{1'b0}};
        u_done_q <= 1'b0;
        v_dec_q  <= {S{1'b0}};
        v_done_q <= 1'b0;
        acc_q    <= {(N*Q){1'b0}};
    end else begin
        u_dec_q  <= b_take ? dec_v : {S{1'b0}};
        u_done_q <= fire;
        v_dec_q  <= u_dec_q;
        v_done_q <= u_done_q;
        acc_q    <= v_done_q ? {(N*Q){1'b0}} : placed;
    end
end

always @(posedge clk) begin
    u_lane_q <= lane_v;
    u_idx_q  <= idx_v;
    u_side_q <= {tile, first, eoc, last};
    v_lane_q <= u_lane_q;
    v_side_q <= u_side_q;
end

// S synchronous read ports of the table
integer rj;
always @(posedge clk) begin
    for (rj = 0; rj < S; rj = rj + 1) begin
        v_val_q[rj*Q +: Q] <= tbl[u_idx_q[rj*Q +: Q]];
    end
end

// V's values in their lanes, over the assembling beat: an AND-OR (each lane
// is written once per beat, so its bits in acc_q are zero until then)
integer pl, pj;
always @* begin
    placed = acc_q;
    for (pj = 0; pj < S; pj = pj + 1) begin
        for (pl = 0; pl < N; pl = pl + 1) begin
            placed[pl*Q +: Q] = placed[pl*Q +: Q] |
                ({Q{v_dec_q[pj] && v_lane_q[pj*N + pl]}} & v_val_q[pj*Q +: Q]);
        end
    end
end

// ---- the output queue ----------------------------------------------------
reg  [OUT_W-1:0] oq [0:QD-1];
reg  [1:0]       oq_wr_q;
reg  [1:0]       oq_rd_q;
reg  [QDW-1:0]   oq_n_q;
wire             oq_valid = oq_n_q != {QDW{1'b0}};
wire             oq_pop;
wire             oq_push  = v_done_q;
wire [OUT_W-1:0] oq_head  = oq[oq_rd_q];

always @(posedge clk) begin
    if (rst || flush) begin
        oq_wr_q <= 2'd0;
        oq_rd_q <= 2'd0;
        oq_n_q  <= {QDW{1'b0}};
        outst_q <= {QDW{1'b0}};
    end else begin
        oq_wr_q <= oq_wr_q + {1'b0, oq_push};
        oq_rd_q <= oq_rd_q + {1'b0, oq_pop};
        oq_n_q  <= oq_n_q + {{(QDW-1){1'b0}}, oq_push} - {{(QDW-1){1'b0}}, oq_pop};
        outst_q <= outst_q + {{(QDW-1){1'b0}}, fire} - {{(QDW-1){1'b0}}, oq_pop};
    end
end

always @(posedge clk) begin
    if (oq_push) begin
        oq[oq_wr_q] <= {placed, v_side_q};
    end
end

wire oq_busy = u_done_q || v_done_q || oq_valid || u_dec_q != {S{1'b0}} || v_dec_q != {S{1'b0}};

generate
    if (DELTA != 0) begin : g_delta
        wire d_ready;
        wire d_busy;
        assign oq_pop = oq_valid && d_ready && !error_o;
        ws_delta_stage #(
            .N(N),
            .Q(Q),
            .MAX_O(MAX_O),
            .TW(TW)
        ) u_delta (
            .clk(clk),
            .rst(rst),
            .flush_i(flush),
            .hold_i(error_o),
            .s_data_i(oq_head[OUT_W-1 -: N*Q]),
            .s_tile_i(oq_head[3 +: TW]),
            .s_first_i(oq_head[2]),
            .s_eoc_i(oq_head[1]),
            .s_last_i(oq_head[0]),
            .s_valid_i(oq_valid && !error_o),
            .s_ready_o(d_ready),
            .m_data_o(m_beat_data_o),
            .m_tile_o(m_beat_tile_o),
            .m_first_o(m_beat_first_o),
            .m_eoc_o(m_beat_eoc_o),
            .m_last_o(m_beat_last_o),
            .m_valid_o(m_beat_valid_o),
            .m_ready_i(m_beat_ready_i),
            .busy_o(d_busy)
        );
        assign busy_o = running || oq_busy || d_busy;
    end else begin : g_plain
        assign oq_pop         = oq_valid && m_beat_ready_i && !error_o;
        assign m_beat_data_o  = oq_head[OUT_W-1 -: N*Q];
        assign m_beat_tile_o  = oq_head[3 +: TW];
        assign m_beat_first_o = oq_head[2];
        assign m_beat_eoc_o   = oq_head[1];
        assign m_beat_last_o  = oq_head[0];
        // a beat never leaves once an error is flagged (the queue is flushed next)
        assign m_beat_valid_o = oq_valid && !error_o;
        assign busy_o         = running || oq_busy;
    end
endgenerate

assign starve_o = wait_bits;

endmodule

`resetall
`default_nettype wire
