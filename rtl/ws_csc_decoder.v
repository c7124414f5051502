// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream CSC decoder (EIE relative indexing)
 *
 * Per column k the stream holds a P-bit entry count C, then C entries of an
 * R-bit run (lower stream position) and a Q-bit value.  An entry means "skip
 * run zero rows, then the next row holds value"; filler entries (run =
 * 2^R-1, value 0) bridge longer gaps and occupy their own row.  Rows after
 * the last entry are zero.
 *
 * Three decoupled stages, so that no row arithmetic lies in a one-cycle
 * loop (EIE decodes its entries ahead of the arithmetic the same way):
 *
 *  1. Parser (the loop with the aligner).  Takes a column's entries a group
 *     of min(remaining, N) at a time, in stream order, without looking at
 *     their runs: the group's length is a register.  When the group ends
 *     the column and the next column's count is buffered and in the window
 *     too, the count is taken in the same cycle (its position is known from
 *     registers); else a count-only cycle follows.  A column without
 *     entries is an empty group.  The aligner is offered four lengths, all
 *     from registers (group, group + count, count, one entry), and the
 *     parser picks one late; the next group's size and lengths come from a
 *     count by constant compares and lookups.  The group goes to register
 *     A with the run of the entry after it (when the window holds it) for
 *     a row look-ahead.  The window is WIN = N*(R+Q) + LA bits: the
 *     look-ahead LA may be 0 (ws_decode_path gives it only the bits the
 *     group's bus words leave spare); a count after a group then waits for
 *     a cycle of its own when the group is nearly whole.
 *  2. Rows (A -> group queue).  A parallel prefix of the runs (+1) gives
 *     every entry's row from the row of the column's previous entry; the
 *     last row is checked against O (error 3); the group (rows, values,
 *     entry mask, last row, the row of the entry after it, end-of-column
 *     flag) enters a queue of D groups.  The parser only fires a group
 *     while fewer than D groups are in A or the queue (a registered
 *     count), so A always moves on and no ready path runs back to the
 *     aligner.
 *  3. Beats.  Beat (tile t, column k) takes lanes from the two oldest
 *     groups G0, G1: entry e lands in lane row_e - t*N when the row is in
 *     the tile.  A beat fires when the tile is complete: G0 ends the
 *     column, or G0 has a row past the tile, or the entry after G0 is
 *     past it, or G1 is there (and whole).  G0 leaves after the beat when
 *     it has no row past the tile (a column's last group at the column's
 *     last tile, with G1 when that ends the column).  Its loop is a
 *     compare of two registers.
 *
 * The compact structure (CPT, derived: N a power of two and N >= 2^R, so
 * consecutive entries of a column are at most one tile apart; the
 * n16_q8_b64 set), for area at a lower clock:
 *  - the queue has two slots behind A (three groups in flight as above):
 *    A waits while both are full and no group leaves, and the parser's
 *    credit counts a group leaving in the same cycle, so the beats' pop
 *    reaches the parser's pick (the loop grows by stage 3's fire);
 *  - a queued entry holds its lane and its tile relative to the group's
 *    first entry (2*log2(N) bits, not a row), the group that first tile;
 *  - entries past an item load into A as zero and add nothing to the
 *    prefix, so one compare of entry N-1's sum checks the rows;
 *  - lanes are placed by a fold of G0 and G1 and a butterfly routed by the
 *    lane bits (stage 3), not by a funnel and a triangular selection.
 *
 * Groups within a column hold N entries but the last, so a tile's entries
 * (at most N, consecutive) lie in G0 and G1.  The beat sequence (tile t /
 * column k counters, real lanes L, last beat, configuration and
 * end-of-stream checks) is the shared ws_beat_sequencer (u_seq).
 *
 * Errors are raised in stream order, as a sequential reader finds them: a
 * group's row check comes before a count read after it (error 2 travels
 * with the group), and when the stream ends early (the final word is in
 * and a group's bits are not all there) the whole entries still buffered
 * are checked one at a time before error 1.  Such check-only items and
 * error tokens bypass the queue.  Stage 2's findings are registered as
 * flags, which stop the parser and the beats at once, and raised as the
 * sticky error (stopping the sequencer) a cycle later; beats fired before
 * are beats of good groups.
 *
 * Errors (sticky until start_i; code on error_code_o): 1 truncated, 2 count
 * C > O, 3 entry on a row >= O, 4 trailing data after the last beat,
 * 5 bad configuration (O == 0, O > MAX_O, K == 0).
 */
module ws_csc_decoder #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // bus word bits (sizes the aligner count)
    parameter integer B     = 64,
    // aligner window bits: a group of N entries and the look-ahead after
    // it (the next count, taken with a column's last group in one cycle,
    // or the next run); at least N*(R+Q) and P
    parameter integer WIN   = N*(R+Q) + (P > R ? P : R),
    // run field bits
    parameter integer R     = 4,
    // count field bits
    parameter integer P     = 16,
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
    input  wire [WIN-1:0]                       win_data_i,
    // aligner window: number of buffered bits
    input  wire [$clog2(2*WIN+3*B+1)-1:0]      win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: the four candidate lengths (group, group + count,
    // count, one entry), candidate c in bits [c*CW +: CW]
    output wire [4*$clog2(WIN+1)-1:0]          win_need_o,
    // aligner window: one-hot pick of the candidate consumed this cycle
    output wire [3:0]                           win_pick_o,
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
    // status: error code (0 none, 1..5 as above)
    output wire [3:0]                           error_code_o,
    // status: decode phase waiting for input bits
    output wire                                 starve_o
);

localparam integer E       = R + Q;
localparam integer PR      = P > R ? P : R;
// look-ahead bits after a whole group: the next run is read with it when
// they hold one
localparam integer LA      = WIN - N*E;
localparam integer RUN_LA  = LA >= R ? 1 : 0;
localparam integer CNT_W   = $clog2(2*WIN + 3*B + 1);
localparam integer CW      = $clog2(WIN + 1);
localparam integer RW      = $clog2(MAX_O + 1);
localparam integer RBW     = $clog2(MAX_O + N + 1);
localparam integer LW      = $clog2(N + 1);
localparam integer LIW     = N > 1 ? $clog2(N) : 1;
localparam integer T       = (MAX_O + N - 1) / N;
localparam integer TW      = T > 1 ? $clog2(T) : 1;
// with N a power of two (> 1) t*N has no low bits: a row's low bits are its lane
localparam integer N_POW2  = N > 1 && (N & (N - 1)) == 0 ? 1 : 0;
// groups in A and the queue at most: two cover a tile; a third hides the
// parser's two-cycle turn-around when a group is less than two bus words
localparam integer D       = 3;
localparam integer DW      = $clog2(D + 1);
// the compact structure, for area where N is large (N a power of two and
// N >= 2^R, so consecutive entries of a column are at most one tile apart;
// n16_q8_b64): a queue of two slots behind A (A waits while both are full
// and none leaves; the parser's credit counts a group leaving in the same
// cycle, so the beats' pop reaches the parser's pick), queued entries hold
// their lane and their tile relative to the group's first entry instead of
// a row, and the lanes are placed by a log-depth network (see stage 3)
// instead of a funnel and a triangular selection.  Slower (the pop in the
// loop, longer paths to stage 1), about a third fewer LUTs in the decoder
localparam integer CPT     = N_POW2 != 0 && N >= (1 << R) ? 1 : 0;
// queue slots
localparam integer QS      = CPT != 0 ? 2 : D;
// prefix sums of (run + 1) over a group's entries and the one after it
localparam integer NC      = N + 1;
localparam integer SUMW    = $clog2(NC * (1 << R) + 1);
localparam integer PLV     = $clog2(NC);
// rows computed in stage 2 reach at most MAX_O + (N + 1) * 2^R; one more
// bit holds the row before a column's first entry, -1
localparam integer XW      = $clog2(MAX_O + NC * (1 << R) + 1) + 1;
// count compare width
localparam integer PW      = P > RW ? P : RW;
// remaining entries against group sizes
localparam integer MW      = RW > LW ? RW : LW;
// the row of the entry after a group (never negative: no sign bit)
localparam integer NW      = XW - 1;
// a queued entry's place: its row, or (CPT) its tile relative to the
// group's first entry (< N: one tile at most per entry) and its lane
localparam integer ERW     = CPT != 0 ? 2*LIW : RW;
// after the entries: the row of the entry after the group, or (CPT) the
// first entry's tile and whether the entry after the group is in a later
// tile than the group's last
localparam integer NXW     = CPT != 0 ? TW + 1 : NW;
// a queued group: rows, values, entry mask, the row of the entry after it,
// that entry is known, end of column
localparam integer GW      = N*ERW + N*Q + N + NXW + 2;
// the beat record through ws_beat_pipe
localparam integer OUT_W   = N*Q + TW + 3;

localparam [CW-1:0]  E_C   = E[CW-1:0];
localparam [CW-1:0]  P_C   = P[CW-1:0];
localparam [CNT_W-1:0] E_CN = E[CNT_W-1:0];
localparam [CNT_W-1:0] P_CN = P[CNT_W-1:0];
localparam [LW-1:0]  N_L   = N[LW-1:0];
localparam [RBW-1:0] N_RB  = N[RBW-1:0];
localparam [DW-1:0]  D_D   = D[DW-1:0];

// parameter checks
generate
    if (N < 1 || Q < 1 || B < 1 || R < 1 || R > 16 || P < 1 || P > 32 ||
        WIN < N*(R+Q) || WIN < P ||
        MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_csc_decoder: need N, Q, B >= 1, 1 <= R <= 16, 1 <= P <= 32, WIN >= N*(R+Q), WIN >= P, 1 <= MAX_O <= 65535");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// ---- sequencer (stage 3's beat walk) ---------------------------------------
wire           running;
wire [RW-1:0]  rows;
wire [RBW-1:0] rbase;
wire [RW-1:0]  unused_rleft;
wire [LW-1:0]  unused_lanes;
wire [TW-1:0]  tile;
wire           first;
wire           eoc;
wire           last;
wire           pipe_ready;
wire           pipe_busy;
wire [LW-1:0]  unused_lanes_nx;
wire [LW-1:0]  unused_lanes_nx_next;
wire           pipe_valid;
reg            err_q;               // an error found by stage 2, raised now
// stage 2's findings for the item that was in A, registered as they are (so
// that the row compares end at a flip-flop), raised as err_q a cycle later;
// err_any stops the stages from the cycle after the finding, as before
reg            e_row_q;             // an entry on a row >= O
reg            e_cnt_q;             // a count > O
reg            e_tok_q;             // an error token (truncation)
reg  [3:0]     e_code_q;            // ... its code
wire           err_any = err_q || e_row_q || e_cnt_q || e_tok_q;
reg  [3:0]     err_code_q;
wire           fire;                // stage 3: the beat fires
wire [1:0]     pops;                // stage 3: groups leaving the queue (0..2)

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
    // the parser finds truncation and sends it down as an error
    .wait_i(1'b0),
    .err_i(err_q),
    .err_code_i(err_code_q),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
    .running_o(running),
    .rows_o(rows),
    .tile_o(tile),
    .rbase_o(rbase),
    .rleft_o(unused_rleft),
    .lanes_o(unused_lanes),
    .lanes_nx_o(unused_lanes_nx),
    .lanes_nx_next_o(unused_lanes_nx_next),
    .first_o(first),
    .eoc_o(eoc),
    .last_o(last),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o)
);

// ---- stage 1: the parser ---------------------------------------------------
localparam [1:0] PS_COUNT = 2'd0;   // the column's count is next
localparam [1:0] PS_GROUP = 2'd1;   // a group of the column's entries is next
localparam [1:0] PS_STOP  = 2'd2;   // all columns parsed, or an error sent

reg [1:0]     ps_q, ps_d;
reg [RW-1:0]  rem_q, rem_d;        // entries of the column not yet parsed
reg [LW-1:0] gn_q, gn_d;         // entries of the next group: min(rem, N)
reg           glast_q, glast_d;    // the next group ends the column
reg [31:0]    pcl_q, pcl_d;        // columns after the parser's one
reg           plcol_q, plcol_d;    // the parser is in column K - 1
reg [CW-1:0]  len_g_q, len_g_d;    // the group's bits, gn * (R + Q)
reg [CW-1:0]  len_gc_q, len_gc_d;  // ... and the next column's count
reg           gcfit_q, gcfit_d;    // ... which lies in the window
reg [CW-1:0]  len_gr_q, len_gr_d;  // ... and the next entry's run
reg [DW-1:0]  infl_q, infl_d;      // groups in A and the queue

wire [CNT_W-1:0] avail = win_count_i;
// rem and group sizes at a common width
wire [MW-1:0]    rem_m = {{(MW-RW){1'b0}}, rem_q};
wire [MW-1:0]    gn_m  = {{(MW-LW){1'b0}}, gn_q};
wire [MW-1:0]    rem_left = rem_m - gn_m;
wire ok_g   = avail >= {{(CNT_W-CW){1'b0}}, len_g_q};
wire ok_gc  = avail >= {{(CNT_W-CW){1'b0}}, len_gc_q};
wire ok_gr  = avail >= {{(CNT_W-CW){1'b0}}, len_gr_q};
wire ok_c   = avail >= P_CN;
wire ok_e   = avail >= E_CN;
// CPT: A waits while the queue is full and no group leaves it; a group
// leaving this cycle makes room for the parser's next
wire a_hold;
wire credit = infl_q < D_D || (CPT != 0 && pops != 2'd0);
wire p_run  = running && !err_any && !a_hold;

// the window padded, so that fields past its end read as zero (never used)
wire [WIN+PR-1:0] win_x = {{PR{1'b0}}, win_data_i};

// the count after a column's last group (used when it lies in the window;
// selected below, beside its compare with N)
reg  [P-1:0]  cnt_g;

wire [P-1:0]  cnt_0   = win_data_i[P-1:0];    // count at the window start
wire [R-1:0]  run_nx  = win_x[N*E +: R];      // run after a whole group
wire [PW-1:0] rows_px = {{(PW-RW){1'b0}}, rows};
wire [PW-1:0] cnt_gx  = {{(PW-P){1'b0}}, cnt_g};
wire [PW-1:0] cnt_0x  = {{(PW-P){1'b0}}, cnt_0};
// the count read this cycle, checked against O in stage 2 (not here, where
// it would follow the window's shift and the pick of its position)
wire [PW-1:0] cnt_rd  = pk_gc ? cnt_gx : cnt_0x;
// only a count's low RW bits are kept when it is <= O; the count read at a
// group's end lies in the look-ahead field, whose other bits are unused
wire          unused_after = ^{win_x[WIN+PR-1:WIN], cnt_gx, cnt_0x, rem_left};

// this cycle's parser action
reg           pk_g;      // take the group
reg           pk_gc;     // take the group and the next count
reg           pk_c;      // take the count
reg           pk_e;      // take one entry (stream cut short: check only)
reg           emit_g;    // a group for the queue goes to A
reg           emit_chk;  // A's entries are checked (group or single entry)
reg [3:0]     emit_err;  // error after A's entries (0: none)
reg           p_wait;    // waiting for bits

always @* begin
    pk_g     = 1'b0;
    pk_gc    = 1'b0;
    pk_c     = 1'b0;
    pk_e     = 1'b0;
    emit_g   = 1'b0;
    emit_chk = 1'b0;
    emit_err = `WS_ERR_NONE;
    p_wait   = 1'b0;
    if (p_run && ps_q == PS_COUNT) begin
        if (ok_c) begin
            pk_c     = 1'b1;
        end else if (win_last_i) begin
            emit_err = `WS_ERR_TRUNCATED;
        end else begin
            p_wait = 1'b1;
        end
    end else if (p_run && ps_q == PS_GROUP) begin
        if (ok_g) begin
            if (credit) begin
                emit_g   = 1'b1;
                emit_chk = 1'b1;
                if (glast_q && gcfit_q && !plcol_q && ok_gc) begin
                    pk_gc = 1'b1;
                end else begin
                    pk_g = 1'b1;
                end
            end
        end else if (win_last_i) begin
            // the stream ends inside this group: check its whole entries
            // one by one, then flag the cut
            if (ok_e) begin
                pk_e     = 1'b1;
                emit_chk = 1'b1;
            end else begin
                emit_err = `WS_ERR_TRUNCATED;
            end
        end else begin
            p_wait = 1'b1;
        end
    end
end

wire p_emit = emit_chk || pk_c || (emit_err != `WS_ERR_NONE);

always @* begin
    ps_d    = ps_q;
    rem_d   = rem_q;
    pcl_d   = pcl_q;
    plcol_d = plcol_q;
    infl_d  = infl_q;

    if (pk_c) begin
        rem_d = cnt_0x[RW-1:0];
        ps_d  = PS_GROUP;
    end
    if (pk_gc) begin
        rem_d   = cnt_gx[RW-1:0];
        pcl_d   = pcl_q - 32'd1;
        plcol_d = (pcl_q == 32'd1);
    end
    if (pk_g) begin
        rem_d = rem_left[RW-1:0];
        if (glast_q) begin
            ps_d    = plcol_q ? PS_STOP : PS_COUNT;
            pcl_d   = pcl_q - 32'd1;
            plcol_d = (pcl_q == 32'd1);
        end
    end
    if (pk_e) begin
        rem_d = rem_q - 1'b1;
    end
    if (emit_err != `WS_ERR_NONE) begin
        ps_d = PS_STOP;
    end
    infl_d = infl_q + {{(DW-1){1'b0}}, emit_g} - pops;

    if (start_i) begin
        ps_d    = PS_COUNT;
        rem_d   = {RW{1'b0}};
        pcl_d   = cfg_cols_i - 32'd1;
        plcol_d = (cfg_cols_i == 32'd1);
        infl_d  = {DW{1'b0}};
    end
end

// the next group's size and lengths, registered.  A count comes late (the
// window's shift, then the pick of its position), so the group size is
// worked out per source of rem_d, the count's by a compare against the
// constant N, and the lengths are looked up from the size (a few LUTs per
// bit, no multiplier or adder after the count)
wire [RW-1:0]  cnt_0r  = cnt_0x[RW-1:0];
// the sources at the width of both rem and a group size
wire [MW-1:0]  cnt_0m  = {{(MW-RW){1'b0}}, cnt_0r};
wire [MW-1:0]  cnt_gm  = {{(MW-RW){1'b0}}, cnt_gx[RW-1:0]};
wire [MW-1:0]  rem_e   = rem_m - 1'b1;
reg            big_d;      // rem_d > N
reg  [LW-1:0] gsrc_d;     // rem_d's low bits, the size when !big_d

// x > N for a count or remainder x: an OR of the bits above N's width and
// a lookup of the rest (no carry chain after a late count)
function automatic over_g;
    input [RW-1:0] x;
    reg   [MW-1:0] xm;
    integer        b;
    begin
        xm     = {{(MW-RW){1'b0}}, x};
        over_g = 1'b0;
        for (b = LW; b < MW; b = b + 1) begin
            over_g = over_g | xm[b];
        end
        for (b = N + 1; b < (1 << LW); b = b + 1) begin
            over_g = over_g | (xm[LW-1:0] == b[LW-1:0]);
        end
    end
endfunction

// the count after a column's last group, picked by the group size, and
// compared with N at every position it can be at before that pick
reg            cg_big;
reg  [PW-1:0]  cg_at;
integer        bi;

always @* begin
    cnt_g  = {P{1'b0}};
    cg_big = 1'b0;
    cg_at  = {PW{1'b0}};
    for (bi = 0; bi <= N; bi = bi + 1) begin
        cg_at = {{(PW-P){1'b0}}, win_x[bi*E +: P]};
        if (bi*E + P <= WIN && gn_q == bi[LW-1:0]) begin
            cnt_g  = cnt_g | win_x[bi*E +: P];
            cg_big = cg_big | over_g(cg_at[RW-1:0]);
        end
    end
end
// a count's bits above RW only matter against O (stage 2)
wire unused_cg_at = ^{cg_at, cnt_0m, cnt_gm, rem_e};

always @* begin
    big_d  = !glast_q;
    gsrc_d = gn_q;
    if (pk_c) begin
        big_d  = over_g(cnt_0r);
        gsrc_d = cnt_0m[LW-1:0];
    end
    if (pk_gc) begin
        big_d  = cg_big;
        gsrc_d = cnt_gm[LW-1:0];
    end
    if (pk_g) begin
        big_d  = over_g(rem_left[RW-1:0]);
        gsrc_d = rem_left[LW-1:0];
    end
    if (pk_e) begin
        big_d  = over_g(rem_e[RW-1:0]);
        gsrc_d = rem_e[LW-1:0];
    end
    if (start_i) begin
        big_d  = 1'b0;
        gsrc_d = {LW{1'b0}};
    end
end

integer gv;

always @* begin
    gn_d     = big_d ? N_L : gsrc_d;
    glast_d  = !big_d;
    len_g_d  = {CW{1'b0}};
    len_gc_d = {CW{1'b0}};
    len_gr_d = {CW{1'b0}};
    gcfit_d  = 1'b0;
    for (gv = 0; gv <= N; gv = gv + 1) begin
        if (gn_d == gv[LW-1:0]) begin
            len_g_d  = len_g_d | gv[CW-1:0] * E_C;
            // the count after the group when it is in the window (else a
            // count cycle follows; the length stays a legal one)
            if (gv*E + P <= WIN) begin
                gcfit_d  = 1'b1;
                len_gc_d = len_gc_d | gv[CW-1:0] * E_C + P_C;
            end else begin
                len_gc_d = len_gc_d | gv[CW-1:0] * E_C;
            end
            len_gr_d = len_gr_d | gv[CW-1:0] * E_C + (RUN_LA != 0 ? R[CW-1:0] : {CW{1'b0}});
        end
    end
end

always @(posedge clk) begin
    if (rst) begin
        ps_q     <= PS_STOP;
        rem_q    <= {RW{1'b0}};
        gn_q     <= {LW{1'b0}};
        glast_q  <= 1'b1;
        pcl_q    <= 32'd0;
        plcol_q  <= 1'b0;
        len_g_q  <= {CW{1'b0}};
        len_gc_q <= {CW{1'b0}};
        gcfit_q  <= 1'b0;
        len_gr_q <= {CW{1'b0}};
        infl_q   <= {DW{1'b0}};
    end else begin
        ps_q     <= ps_d;
        rem_q    <= rem_d;
        gn_q     <= gn_d;
        glast_q  <= glast_d;
        pcl_q    <= pcl_d;
        plcol_q  <= plcol_d;
        len_g_q  <= len_g_d;
        len_gc_q <= len_gc_d;
        gcfit_q  <= gcfit_d;
        len_gr_q <= len_gr_d;
        infl_q   <= infl_d;
    end
end

// ---- A: the parsed item ----------------------------------------------------
reg            a_v_q;              // A holds an item
reg            a_grp_q;            // ... a group for the queue
reg            a_chk_q;            // ... entries to check
reg  [N-1:0]   a_mask_q;           // entries in the item (thermometer)
reg  [N*E-1:0] a_ent_q;            // the entries, entry j in bits [j*E +: E]
reg  [R-1:0]   a_run_nx_q;         // the run of the entry after a whole group
reg            a_nx_q;             // ... which is buffered and in the column
reg            a_clast_q;          // the item ends the column
reg  [3:0]     a_err_q;            // error after the item's entries
reg            a_trk_q;            // ... a single entry of a cut stream
reg  [PW-1:0]  a_cnt_q;            // a count read after the item's entries
reg            a_cntv_q;           // ... is there (checked against O)
// A's qualifiers for the error register, each a flip-flop of its own so
// that the error is one gate after the row compares
reg            a_rowchk_q;         // A holds entries to check
reg            a_errv_q;           // A holds an error after them

reg  [N-1:0]   emit_mask;
integer        mi;

// CPT: entries past the item's are loaded as zero (they add nothing to the
// prefix below, so its last sum is the item's last entry's)
reg  [N*E-1:0] emit_ent;

always @* begin
    emit_mask = {N{1'b0}};
    emit_ent  = {N*E{1'b1}};
    for (mi = 0; mi < N; mi = mi + 1) begin
        if (pk_e) begin
            emit_mask[mi] = (mi == 0);
        end else if (mi < gn_q) begin
            emit_mask[mi] = 1'b1;
        end
        if (CPT != 0) begin
            emit_ent[mi*E +: E] = {E{emit_mask[mi]}};
        end
    end
end

always @(posedge clk) begin
    if (rst || start_i) begin
        a_v_q      <= 1'b0;
        a_rowchk_q <= 1'b0;
        a_errv_q   <= 1'b0;
        a_cntv_q   <= 1'b0;
    end else if (!a_hold) begin
        a_v_q      <= p_emit;
        a_rowchk_q <= emit_chk && emit_mask[0];
        a_errv_q   <= emit_err != `WS_ERR_NONE;
        a_cntv_q   <= pk_c || pk_gc;
    end
end

always @(posedge clk) begin
    if (!a_hold) begin
        a_grp_q    <= emit_g;
        a_chk_q    <= emit_chk;
        a_mask_q   <= emit_mask;
        a_ent_q    <= win_data_i[N*E-1:0] & emit_ent;
        a_run_nx_q <= run_nx;
        // a whole group not ending the column, with the next run buffered
        a_nx_q     <= RUN_LA != 0 && emit_g && !glast_q && ok_gr;
        a_clast_q  <= emit_g && glast_q;
        a_err_q    <= emit_err;
        a_trk_q    <= pk_e;
        a_cnt_q    <= cnt_rd;
    end
end

// ---- stage 2: rows ------------------------------------------------------------
// parallel prefix (Sklansky) of run_j + 1 over the item's entries and the
// entry after it; level v+1: index j with bit v set adds the last sum of
// the lower half of its 2^(v+1) block
reg  [NC*SUMW-1:0] pfx;
integer            pv;
integer            pj;

// CPT: a sum of c entries is cut to the bits c * 2^R needs (the adders
// after it are narrower); an entry past the item adds 0 (its run is zero)
function automatic [SUMW-1:0] sum_cut;
    input [SUMW-1:0] x;
    input integer    c;
    integer          w;
    begin
        w       = $clog2(c * (1 << R) + 1);
        sum_cut = x;
        if (CPT != 0 && w < SUMW) begin
            sum_cut = x & (({{(SUMW-1){1'b0}}, 1'b1} << w) - 1'b1);
        end
    end
endfunction

always @* begin
    for (pj = 0; pj < NC; pj = pj + 1) begin
        if (pj < N) begin
            pfx[pj*SUMW +: SUMW] = {{(SUMW-R){1'b0}}, a_ent_q[pj*E +: R]} +
                                   {{(SUMW-1){1'b0}}, CPT != 0 ? a_mask_q[pj % N] : 1'b1};
        end else begin
            pfx[pj*SUMW +: SUMW] = {{(SUMW-R){1'b0}}, a_run_nx_q} + 1'b1;
        end
        pfx[pj*SUMW +: SUMW] = sum_cut(pfx[pj*SUMW +: SUMW], 1);
    end
    for (pv = 0; pv < PLV; pv = pv + 1) begin
        for (pj = 0; pj < NC; pj = pj + 1) begin
            if (((pj >> pv) & 1) == 1) begin
                pfx[pj*SUMW +: SUMW] = sum_cut(pfx[pj*SUMW +: SUMW] +
                    pfx[(((pj >> (pv + 1)) << (pv + 1)) + (1 << pv) - 1)*SUMW +: SUMW],
                    (pj % (1 << (pv + 1))) + 1);
            end
        end
    end
end

// the row of the column's previous entry (-1 before the first) and O minus
// it; a group's last row is >= O iff its prefix sum reaches the latter
reg  [XW-1:0]   prev_q, prev_d;
reg  [XW-1:0]   oleft_q, oleft_d;
// the prefix sum of the item's last entry: a group that does not end its
// column has N entries, a check-only item one (a column's last group resets
// the row instead), so no pick over all entries is needed
wire [SUMW-1:0] pfx_last = a_trk_q && CPT == 0 ? pfx[0 +: SUMW] : pfx[(N-1)*SUMW +: SUMW];
wire [XW-1:0]   pfx_last_x = {{(XW-SUMW){1'b0}}, pfx_last};
// rows increase within a column: some entry's row is >= O iff the last one's
// is; comparing every entry in parallel keeps the pick of the last sum out
// of the error path
reg  [N-1:0]  row_over;
integer       oi;

// O minus the previous row is often wider than a prefix sum: compare at the
// sum's width (what is beyond it is decided beside the prefix, not after)
wire            oleft_big = |oleft_q[XW-1:SUMW];
wire [SUMW-1:0] oleft_lo  = oleft_q[SUMW-1:0];

always @* begin
    for (oi = 0; oi < N; oi = oi + 1) begin
        row_over[oi] = !oleft_big && pfx[oi*SUMW +: SUMW] >= oleft_lo;
    end
end

// (CPT: the item's last sum is the last entry's, one compare)
wire          err_row    = a_rowchk_q && (CPT != 0 ? row_over[N-1] : |(a_mask_q & row_over));
// a count > O read after the item's entries: error 2, after their rows
wire          err_cnt    = a_cntv_q && a_cnt_q > rows_px;
wire [XW-1:0] last_row   = prev_q + pfx_last_x;  // the item's last row
wire [XW-1:0] next_row   = prev_q + {{(XW-SUMW){1'b0}}, pfx[N*SUMW +: SUMW]};
// a group that fails the row check is queued too: the error is registered
// with it and stops stage 3 before the group can be used (keeps the row
// arithmetic out of the queue's write enable)
wire          push       = a_v_q && a_grp_q && !err_any && !a_hold;
wire [XW-1:0] rows_x     = {{(XW-RW){1'b0}}, rows};

always @* begin
    prev_d  = prev_q;
    oleft_d = oleft_q;
    if (a_v_q && a_chk_q && !a_hold) begin
        if (a_clast_q) begin
            prev_d  = {XW{1'b1}};
            oleft_d = rows_x + 1'b1;
        end else begin
            prev_d  = last_row;
            oleft_d = oleft_q - pfx_last_x;
        end
    end
    if (start_i) begin
        prev_d  = {XW{1'b1}};
        oleft_d = {{(XW-RW){1'b0}}, cfg_rows_i[RW-1:0]} + 1'b1;
    end
end

always @(posedge clk) begin
    if (rst) begin
        prev_q  <= {XW{1'b1}};
        oleft_q <= {XW{1'b0}};
    end else begin
        prev_q  <= prev_d;
        oleft_q <= oleft_d;
    end
end

// the error: findings registered, then raised with its code (a row error
// first: the rows come before a count read after them)
always @(posedge clk) begin
    if (rst || start_i) begin
        e_row_q    <= 1'b0;
        e_cnt_q    <= 1'b0;
        e_tok_q    <= 1'b0;
        err_q      <= 1'b0;
        err_code_q <= `WS_ERR_NONE;
    end else begin
        e_row_q <= err_row;
        e_cnt_q <= err_cnt;
        e_tok_q <= a_errv_q;
        err_q   <= err_any;
        if (!err_q) begin
            err_code_q <= e_row_q ? `WS_ERR_RUN_PAST_COLUMN_END :
                          e_cnt_q ? `WS_ERR_COUNT_EXCEEDS_ROWS : e_code_q;
        end
    end
end

// a_err_q is NONE unless a_errv_q
always @(posedge clk) begin
    e_code_q <= a_err_q;
end

// the group record: per entry its row, or (CPT) its tile relative to the
// group's first entry and its lane; after the entries the row of the entry
// after the group, or (CPT) the first entry's tile and whether the entry
// after the group is in a later tile than the group's last
wire [N*ERW-1:0] g_rows;
wire [NXW-1:0]   g_next;
integer          ri;
reg  [XW-1:0]    row_j;

generate
    if (CPT != 0) begin : g_rec_cpt
        // rows padded above, so that their tile bits can be read at any XW
        localparam integer YW = XW + LIW + TW;
        reg  [N*ERW-1:0] rows_c;
        reg  [YW-1:0]    row_y;
        wire [XW-1:0]    row_f  = prev_q + {{(XW-SUMW){1'b0}}, pfx[0 +: SUMW]};
        wire [YW-1:0]    row_fy = {{(YW-XW){1'b0}}, row_f};
        wire [XW-1:0]    row_l  = prev_q + {{(XW-SUMW){1'b0}}, pfx[(N-1)*SUMW +: SUMW]};

        always @* begin
            rows_c = {N*ERW{1'b0}};
            row_j  = {XW{1'b0}};
            row_y  = {YW{1'b0}};
            for (ri = 0; ri < N; ri = ri + 1) begin
                row_j = prev_q + {{(XW-SUMW){1'b0}}, pfx[ri*SUMW +: SUMW]};
                row_y = {{(YW-XW){1'b0}}, row_j};
                // the tile grows by one at most per entry: the difference
                // from the first entry's tile fits LIW bits
                rows_c[ri*ERW +: ERW] = {row_y[LIW +: LIW] - row_fy[LIW +: LIW],
                                         row_y[0 +: LIW]};
            end
        end
        assign g_rows = rows_c;
        // consecutive tiles differ in their lowest bit
        assign g_next = {row_fy[LIW +: TW], next_row[LIW] ^ row_l[LIW]};
        // rows of a queued group are < O: the tile fits TW bits
        wire unused_rec = ^{row_y, row_fy, row_l, next_row};
    end else begin : g_rec_row
        reg  [N*ERW-1:0] rows_r;

        always @* begin
            rows_r = {N*ERW{1'b0}};
            row_j  = {XW{1'b0}};
            for (ri = 0; ri < N; ri = ri + 1) begin
                row_j = prev_q + {{(XW-SUMW){1'b0}}, pfx[ri*SUMW +: SUMW]};
                rows_r[ri*ERW +: ERW] = row_j[RW-1:0];
            end
        end
        assign g_rows = rows_r;
        assign g_next = next_row[NW-1:0];
        // the row after a group is never negative
        wire unused_rec = next_row[XW-1];
    end
endgenerate
// rows of a queued group are < O: their high bits are zero
wire unused_rows_hi = ^{row_j, cfg_rows_i};

reg  [N*Q-1:0] a_vals;
integer        vi;

always @* begin
    for (vi = 0; vi < N; vi = vi + 1) begin
        a_vals[vi*Q +: Q] = a_ent_q[vi*E + R +: Q];
    end
end

wire [GW-1:0] g_new = {g_rows, a_vals, a_mask_q, g_next, a_nx_q, a_clast_q};

// ---- the group queue (QS slots, slot 0 oldest) ----------------------------------
reg [GW-1:0]  gq_q [0:QS-1];
reg [DW-1:0]  gcnt_q;
reg [DW-1:0]  gcnt_d;
integer       qi;

always @* begin
    gcnt_d = gcnt_q - {{(DW-2){1'b0}}, pops} + {{(DW-1){1'b0}}, push};
    if (start_i) begin
        gcnt_d = {DW{1'b0}};
    end
end

always @(posedge clk) begin
    if (rst) begin
        gcnt_q <= {DW{1'b0}};
    end else begin
        gcnt_q <= gcnt_d;
    end
end

// slot i takes slot i + pops, or the pushed group at the first free slot
always @(posedge clk) begin
    for (qi = 0; qi < QS; qi = qi + 1) begin
        if (push && {{(32-DW){1'b0}}, gcnt_q} - {30'd0, pops} == qi) begin
            gq_q[qi] <= g_new;
        end else if (pops == 2'd1 && qi + 1 < QS) begin
            gq_q[qi] <= gq_q[(qi + 1) % QS];
        end else if (pops == 2'd2 && qi + 2 < QS) begin
            gq_q[qi] <= gq_q[(qi + 2) % QS];
        end
    end
end

// CPT: the group in A waits while the queue is full and no group leaves
localparam [DW-1:0] QS_D = QS[DW-1:0];
assign a_hold = CPT != 0 && a_v_q && a_grp_q && gcnt_q == QS_D && pops == 2'd0;

// ---- stage 3: beats ---------------------------------------------------------------
wire [GW-1:0]    g0 = gq_q[0];
wire [GW-1:0]    g1 = gq_q[1 % QS];
wire             g0_v     = gcnt_q != {DW{1'b0}};
wire             g1_v     = gcnt_q > {{(DW-1){1'b0}}, 1'b1};
wire             g0_clast = g0[0];
wire             g0_nx    = g0[1];
wire [NXW-1:0]   g0_next  = g0[2 +: NXW];
wire [NXW-1:0]   g1_next  = g1[2 +: NXW];
wire             g1_clast = g1[0];
wire             g1_whole = g1[2+NXW+N-1];   // N entries
wire [N-1:0]     g0_mask  = g0[2+NXW +: N];
wire [N-1:0]     g1_mask  = g1[2+NXW +: N];
wire [N*Q-1:0]   g0_vals  = g0[2+NXW+N +: N*Q];
wire [N*Q-1:0]   g1_vals  = g1[2+NXW+N +: N*Q];
wire [N*ERW-1:0] g0_rows  = g0[2+NXW+N+N*Q +: N*ERW];
wire [N*ERW-1:0] g1_rows  = g1[2+NXW+N+N*Q +: N*ERW];
// the rest of G1's record is not needed
wire             unused_g1 = ^{g1[1], g1_mask[N-1]};

// a row of G0 past the tile: only asked of a group that does not end its
// column, which has N entries, so its last row is row N-1 (no pick)
wire             g0_past;
// the entry after G0 is past the tile (only asked when G0 is not)
wire             g0_nx_out;
// (g0_past is not used for a column's last group)
wire             need_g1   = !g0_clast && !g0_past && !g0_nx_out;
wire             c_ready   = g0_v && (eoc ? (g0_clast || (g1_v && g1_clast))
                                          : (!need_g1 || (g1_v && (g1_whole || g1_clast))));

assign fire = running && !err_any && c_ready && pipe_ready;
// G0 leaves when no row of it is past the tile (a column's last group at
// the column's last tile); at the last tile G1 leaves too unless G0 ends
// the column
wire   pop0 = fire && (g0_clast ? eoc : !g0_past);
wire   pop1 = fire && eoc && !g0_clast;
assign pops = {pop1, pop0 && !pop1};

// lanes, in two steps split by ws_beat_pipe's stages; the tile's entries
// are consecutive in G0 then G1 (G1 only when G0 does not end the column),
// after the s entries of G0 in earlier tiles
localparam integer FE_W  = 1 + LIW + Q;           // funnel entry: in, lane, value
localparam integer SW_W  = $clog2(N + 1);         // the shift s: 0..N
localparam integer RAW_W = CPT != 0 ? N*(Q+1) + TW + 3 : N*FE_W + TW + 3;

wire [RAW_W-1:0] raw_in;
wire [RAW_W-1:0] raw;
wire [OUT_W-1:0] ext;
wire [OUT_W-1:0] beat;
reg  [N-1:0]     below;      // G0 entry j is in an earlier tile

// s: the entries below are a prefix of G0 (rows grow, the mask is a thermometer)
reg  [SW_W-1:0] shift_s;
integer         si;

always @* begin
    shift_s = {SW_W{1'b0}};
    for (si = 0; si < N; si = si + 1) begin
        if (below[si] && (si == N - 1 || !below[(si + 1) % N])) begin
            shift_s = shift_s | si[SW_W-1:0] + 1'b1;
        end
    end
end

generate
    if (CPT != 0) begin : g_sel_net
        //  - at the fire: a fold, position p holds G0's entry p when it is
        //    in the tile, else G1's (G1's entries in the tile are fewer
        //    than s, G0's are p >= s), so position p holds the tile's
        //    entry number k = p - s (mod N), going to lane l_k; lanes grow
        //    with k (l_k2 - l_k1 >= k2 - k1).  A butterfly routed by the
        //    lane bits, highest first, places them: after the stage of bit
        //    b an entry is at (l_k's bits >= b, p's bits < b), and two
        //    entries there would have |l_k2 - l_k1| < 2^b, so 0 < k2 - k1
        //    < 2^b, yet p2 - p1 = k2 - k1 (mod 2^b): they never meet.  An
        //    empty position is all zero, harmless where it lands (OR).
        //  - in the next stage: the butterfly's last stage (bit 0).
        localparam integer DTW = (TW > LIW ? TW : LIW) + 1;
        // the tile's offset from each group's first tile
        wire [DTW-1:0] dt0 = {{(DTW-TW){1'b0}}, tile} - {{(DTW-TW){1'b0}}, g0_next[1 +: TW]};
        wire [DTW-1:0] dt1 = {{(DTW-TW){1'b0}}, tile} - {{(DTW-TW){1'b0}}, g1_next[1 +: TW]};
        wire [LIW-1:0] dt0_lo  = dt0[LIW-1:0];
        wire [LIW-1:0] dt1_lo  = dt1[LIW-1:0];
        wire           dt0_neg = dt0[DTW-1];
        wire           dt0_in  = dt0[DTW-1:LIW] == {(DTW-LIW){1'b0}};
        wire           dt1_in  = dt1[DTW-1:LIW] == {(DTW-LIW){1'b0}};
        wire [LIW-1:0] rt0_l   = g0_rows[(N-1)*ERW + LIW +: LIW];

        assign g0_past   = dt0_neg || (dt0_in && rt0_l > dt0_lo);
        // G0's last entry is in the tile and the next one is in a later tile
        assign g0_nx_out = g0_nx && g0_next[0] && dt0_in && rt0_l == dt0_lo;

        // a butterfly entry: lane bits, value
        localparam integer BE_W = LIW + Q;
        reg  [N-1:0]      in0;        // G0 entry p is in the tile
        reg  [N-1:0]      in1;        // G1 entry p is in the tile
        reg  [N*BE_W-1:0] x;
        reg  [N*BE_W-1:0] x_n;
        reg  [N-1:0]      x_b0;       // lane bit 0 after the stages before the register
        reg  [N*Q-1:0]    x_v;
        integer           fp;
        integer           xb;
        integer           xs;

        always @* begin
            in0   = {N{1'b0}};
            in1   = {N{1'b0}};
            below = {N{1'b0}};
            x     = {N*BE_W{1'b0}};
            x_n   = {N*BE_W{1'b0}};
            x_b0  = {N{1'b0}};
            x_v   = {N*Q{1'b0}};
            xs    = 0;
            for (fp = 0; fp < N; fp = fp + 1) begin
                in0[fp] = g0_mask[fp] && dt0_in && g0_rows[fp*ERW + LIW +: LIW] == dt0_lo;
                in1[fp] = g1_v && !g0_clast && g1_mask[fp] && dt1_in &&
                          g1_rows[fp*ERW + LIW +: LIW] == dt1_lo;
                x[fp*BE_W +: BE_W] =
                    ({BE_W{in0[fp]}} & {g0_vals[fp*Q +: Q], g0_rows[fp*ERW +: LIW]}) |
                    ({BE_W{in1[fp]}} & {g1_vals[fp*Q +: Q], g1_rows[fp*ERW +: LIW]});
            end
            // stages LIW-1 .. 1: position fp takes its own entry when that
            // entry's lane bit xb is fp's, and its partner's when the
            // partner's is
            for (xb = LIW - 1; xb >= 1; xb = xb - 1) begin
                for (fp = 0; fp < N; fp = fp + 1) begin
                    xs = fp ^ (1 << xb);
                    x_n[fp*BE_W +: BE_W] =
                        ({BE_W{x[fp*BE_W + xb] == ((fp >> xb) % 2 == 1)}} & x[fp*BE_W +: BE_W]) |
                        ({BE_W{x[xs*BE_W + xb] == ((fp >> xb) % 2 == 1)}} & x[xs*BE_W +: BE_W]);
                end
                x = x_n;
            end
            for (fp = 0; fp < N; fp = fp + 1) begin
                x_b0[fp]       = x[fp*BE_W];
                x_v[fp*Q +: Q] = x[fp*BE_W + LIW +: Q];
            end
        end
        // lane bits 1.. are used up by their stages; the shift s is not needed
        wire unused_sel = ^{x, shift_s, g1_next[0], rbase};

        assign raw_in = {x_v, x_b0, tile, first, eoc, last};

        // the next stage: the butterfly's stage for lane bit 0
        wire [N*Q-1:0] r_v  = raw[RAW_W-1 -: N*Q];
        wire [N-1:0]   r_b0 = raw[TW+3 +: N];
        reg  [N*Q-1:0] r_val;
        integer        rp;

        always @* begin
            for (rp = 0; rp < N; rp = rp + 1) begin
                r_val[rp*Q +: Q] =
                    ({Q{r_b0[rp] == (rp % 2 == 1)}} & r_v[rp*Q +: Q]) |
                    ({Q{r_b0[rp ^ 1] == (rp % 2 == 1)}} & r_v[(rp ^ 1)*Q +: Q]);
            end
        end

        assign ext = {r_val, raw[TW+2:0]};
    end else begin : g_sel_tri
        //  - at the fire: the 2N entries (in-tile flag, lane, value) are
        //    shifted down by s (a funnel), so the tile's k-th entry is at
        //    position k;
        //  - in the next stage: position k can only land in a lane l >= k
        //    (rows grow by at least one per entry), so lane l looks at
        //    positions 0..l: a triangular selection of N(N+1)/2 inputs
        //    instead of 2N x N.

        // the end of the current tile, t*N + N, kept beside the sequencer's t*N
        reg  [RBW-1:0]  tend_q;
        wire [RBW-1:0]  g0_lrow   = {{(RBW-RW){1'b0}}, g0_rows[(N-1)*RW +: RW]};

        assign g0_past   = g0_lrow >= tend_q;
        assign g0_nx_out = g0_nx && g0_next >= {{(NW-RBW){1'b0}}, tend_q};

        always @(posedge clk) begin
            if (rst || start_i) begin
                tend_q <= N_RB;
            end else if (fire) begin
                tend_q <= eoc ? N_RB : tend_q + N_RB;
            end
        end

        reg  [2*N*FE_W-1:0] fe;         // entries: G0's, then G1's
        reg  [RBW:0]        rel;
        reg  [RW-1:0]       e_row;
        reg                 e_in;
        reg  [LIW-1:0]      e_lane;
        integer             ei;

        always @* begin
            fe     = {2*N*FE_W{1'b0}};
            below  = {N{1'b0}};
            rel    = {(RBW+1){1'b0}};
            e_row  = {RW{1'b0}};
            e_in   = 1'b0;
            e_lane = {LIW{1'b0}};
            for (ei = 0; ei < 2*N; ei = ei + 1) begin
                e_row  = ei < N ? g0_rows[(ei % N)*RW +: RW] : g1_rows[(ei % N)*RW +: RW];
                rel    = {{(RBW+1-RW){1'b0}}, e_row} - {1'b0, rbase};
                e_lane = rel[LIW-1:0];
                e_in   = !rel[RBW] && rel < {1'b0, N_RB};
                if (ei < N) begin
                    below[ei % N] = g0_mask[ei % N] && rel[RBW];
                end
                if (N_POW2 != 0) begin
                    // the tile is the row's high bits, the lane its low bits: no subtraction
                    e_lane = e_row[LIW-1:0];
                    e_in   = ({{(32-RW){1'b0}}, e_row} >> LIW) == {{(32-TW){1'b0}}, tile};
                    if (ei < N) begin
                        below[ei % N] = g0_mask[ei % N] &&
                                        ({{(32-RW){1'b0}}, e_row} >> LIW) < {{(32-TW){1'b0}}, tile};
                    end
                end
                e_in = e_in && (ei < N ? g0_mask[ei % N] : (g1_v && !g0_clast && g1_mask[ei % N]));
                fe[ei*FE_W +: FE_W] = {ei < N ? g0_vals[(ei % N)*Q +: Q] : g1_vals[(ei % N)*Q +: Q],
                                       e_lane, e_in};
            end
        end

        // the funnel: a log shifter by whole entries (a shift by s * FE_W bits
        // would be a bit-granular shifter by a product)
        reg  [2*N*FE_W-1:0] fe_sh;
        integer             fb;

        always @* begin
            fe_sh = fe;
            for (fb = 0; fb < SW_W; fb = fb + 1) begin
                if (shift_s[fb]) begin
                    fe_sh = fe_sh >> ((1 << fb) * FE_W);
                end
            end
        end
        // the funnel keeps positions 0..N-1; G1's next row is not needed
        wire unused_fe = ^{fe_sh[2*N*FE_W-1:N*FE_W], g1_next};

        assign raw_in = {fe_sh[N*FE_W-1:0], tile, first, eoc, last};

        wire [N*FE_W-1:0] raw_fe = raw[RAW_W-1 -: N*FE_W];
        reg  [N*Q-1:0]    lanes_data;
        integer           l;
        integer           k;

        always @* begin
            lanes_data = {N*Q{1'b0}};
            for (l = 0; l < N; l = l + 1) begin
                for (k = 0; k <= l; k = k + 1) begin
                    if (raw_fe[k*FE_W] && raw_fe[k*FE_W + 1 +: LIW] == l[LIW-1:0]) begin
                        lanes_data[l*Q +: Q] = lanes_data[l*Q +: Q] | raw_fe[k*FE_W + 1 + LIW +: Q];
                    end
                end
            end
        end

        assign ext = {lanes_data, raw[TW+2:0]};
    end
endgenerate

ws_beat_pipe #(
    .RAW_W(RAW_W),
    .OUT_W(OUT_W)
) u_pipe (
    .clk(clk),
    .rst(rst),
    .flush_i(start_i || error_o),
    .s_raw_i(raw_in),
    .s_fire_i(fire),
    .s_ready_o(pipe_ready),
    .raw_o(raw),
    .ext_i(ext),
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
assign win_need_o     = {E_C, P_C, len_gc_q, len_g_q};
assign win_pick_o     = {pk_e, pk_c, pk_gc, pk_g};
assign win_en_o       = running;

assign busy_o       = running || pipe_busy;
assign starve_o     = running && p_wait;

endmodule

`resetall
`default_nettype wire
