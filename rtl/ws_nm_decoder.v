// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream nm (N:M structured sparsity) decoder
 *
 * Decodes the "nm" format (docs/stream-formats.md): an 8-bit header (n in
 * bits 0..3, log2 m in bits 4..7), then the beats group by group (for g,
 * for t, for j < m_g, beat (t, g*m + j); m_g = min(m, K - g*m), the
 * group's columns): when j < n_g = min(n, m_g) each real lane writes entry
 * j of its row in group g, a position (log2 m bits) and a value (Q bits);
 * beats with j >= n_g carry nothing.  Lane l of beat (t, g*m + j) is the
 * value of the row's entry whose position is j, or 0.
 *
 * Limits of this decoder (not of the format): n <= KEEP and log2 m <=
 * MAXLM (rtl/ws_rtl.toml [nm] keep, max_log2_group); a header above either
 * is error 8 like a malformed one.
 *
 * Fixed rate: one beat per cycle, no data-dependent loop.  The one-cycle
 * loop is that of ws_dense_unpacker: "the window holds need_q bits" (need_q
 * registered: 8 for the header, L*(log2 m + Q) for a beat that carries
 * entries, 0 for one that does not) ANDed with one registered-state term
 * -> the aligner's pick.  Nothing but registers follows the window: the
 * header's 8 bits and a beat's first N*(MAXLM + Q) bits are registered as
 * they are.
 *
 * A row tile's beats of a group follow each other, so only the current
 * tile's entries are kept: KE = min(KEEP, 2^MAXLM - 1) slot registers
 * (slot s holds the bits of the beat that carried entry s of every lane:
 * N*(MAXLM+Q) bits).  When beat (t, g*m + j), j < n_g, fires its bits go
 * into slot j and into stage 1 of ws_beat_pipe; in stage 1 the record
 * meets the slots, i.e. entries 0..j-1 of its tile (a later tile's beat
 * writes them only as stage 1 moves on, ws_beat_pipe's s_ready_o; slot j
 * itself is not used).  In stage 1 the entries are picked from
 * those bits (lane l's at l*(log2 m + Q), a MAXLM-way select on the
 * registered log2 m); stage 1 -> stage 2: lane l takes the value of the
 * entry among slots s < min(j, n_g) and this beat's own (when it carries
 * entries) whose position is j, else 0; lanes >= L are 0.
 *
 * The position checks are in stage 1 too (entry j's position above slot
 * j-1's and below m_g, lanes < L), registered (err_q) and raised as err_i
 * of ws_beat_sequencer two cycles after the beat fired: the sequencer
 * stops there (beats may fire into the pipeline meanwhile; none leaves:
 * err_q masks the beat output until the sequencer's error flushes the
 * pipeline, and the sequencer's error comes before its advance).  For the
 * last beat the sequencer's end-of-stream check waits for it (ERR_LAT = 2),
 * and a decoder's error comes first there.  A beat cut by the end of the
 * stream (it waits for bits and the final word is in the aligner) is
 * checked the same way before it is called truncated: its record, with
 * the lanes whose position field is in the stream (count >= l*(log2 m +
 * Q) + log2 m), goes into stage 1 once and
 * the truncation is passed to the sequencer only when that check is
 * registered, so a bad position in front of the cut wins, as in the golden
 * decoder that reads field by field.
 *
 * Header: taken in a cycle of its own (need_q = 8), n and log2 m
 * registered as they are; in the next cycle (H1), from registers, the
 * check (error 8 on n = 0, n >= m, log2 m outside 1..MAXLM or n > KEEP),
 * m, the first group's m_g = min(K, m), n_g and carry thermometer, the
 * groups after it (K - 1) >> log2 m, and the first beat's bits (per log2 m
 * a register of L*(log2 m + Q), selected): the first beat may fire in the
 * cycle after H1.  Per group: m_g, n_g and a thermometer of the columns
 * carrying entries (shifted per column), loaded at a group's start from
 * registers of "a whole group" or "the last group" (m_g = ((K - 1) mod m)
 * + 1, set a cycle after H1; a group counter, compared a cycle late, says
 * which comes next: a group lasts T*m >= 2 beats), restarted per tile from
 * the group's own (cs0_q); the need of the tile's carrying beats
 * L*(log2 m + Q) is set at a tile's first beat from the sequencer's
 * registered next lanes and kept for its other columns.
 *
 * Beat side band: tile index t, first (group 0's column 0), end of group
 * (last tile, last column), column j within the group, last beat of the
 * layer.  The beat sequence (tile counter, real lanes L, configuration,
 * truncation and end-of-stream checks) is the shared ws_beat_sequencer
 * (u_seq, GROUPED: this decoder gives it the group walk's flags).
 *
 * Errors (sticky until start_i; code on error_code_o):
 *   1 truncated: the final word is in the aligner and the window cannot
 *     hold the header or the next beat
 *   4 trailing data: after the last beat the buffer holds more than the
 *     zero padding of the final word, or the final word is not in the aligner
 *   5 bad configuration: O == 0, O > MAX_O or K == 0
 *   8 bad N:M header
 *   9 bad N:M position
 */
module ws_nm_decoder #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // bus word bits (sizes the aligner count)
    parameter integer B     = 64,
    // largest supported number of rows O
    parameter integer MAX_O = 1280,
    // entries per group kept (largest n of a header accepted), 1..15
    parameter integer KEEP  = 2,
    // largest log2 m of a header accepted, 1..4: the stored position bits
    parameter integer MAXLM = 4,
    // aligner window bits: max(N*(MAXLM+Q), 8) (derived; not to be overridden)
    parameter integer WIN   = N*(MAXLM+Q) > 8 ? N*(MAXLM+Q) : 8
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
    // aligner window: bits the header or the current beat takes when it fires
    output wire [$clog2(WIN+1)-1:0]             win_need_o,
    // aligner window: the header or the beat is taken, consuming win_need_o bits
    output wire                                 win_pick_o,
    // aligner window: word FIFO intake and aligner take enable (registered)
    output wire                                 win_en_o,

    // beat output: N lanes of Q bits, lane l in bits [l*Q +: Q]
    output wire [N*Q-1:0]                       m_beat_data_o,
    // beat output: row tile index t
    output wire [((MAX_O+N-1)/N > 1 ? $clog2((MAX_O+N-1)/N) : 1)-1:0] m_beat_tile_o,
    // beat output: first column (k == 0)
    output wire                                 m_beat_first_o,
    // beat output: last beat of the group (last tile, last column)
    output wire                                 m_beat_eoc_o,
    // beat output: column j within the group
    output wire [3:0]                           m_beat_col_o,
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
    // status: error code (0 none, 1 truncated, 4 trailing, 5 configuration,
    // 8 bad N:M header, 9 bad N:M position)
    output wire [3:0]                           error_code_o,
    // status: decode phase waiting for input bits
    output wire                                 starve_o
);

// stored position bits and entry bits; m up to MV = 2^MAXLM, slots kept
localparam integer PB    = MAXLM;
localparam integer EW    = PB + Q;
localparam integer MV    = 1 << MAXLM;
localparam integer KE    = KEEP < MV - 1 ? KEEP : MV - 1;
// a group's columns m_g (1..MV) and the carry thermometer (bit KE stays 0)
localparam integer MGW   = PB + 1;
localparam integer CSW   = KE + 1;
localparam integer CNT_W = $clog2(2*WIN + 3*B + 1);
localparam integer CW    = $clog2(WIN + 1);
localparam integer RW    = $clog2(MAX_O + 1);
localparam integer RBW   = $clog2(MAX_O + N + 1);
localparam integer LW    = $clog2(N + 1);
localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;

localparam [CW-1:0]    Q_C    = Q[CW-1:0];
localparam [CW-1:0]    HDR_C  = 8;
localparam [3:0]       KEEP_4 = KEEP[3:0];
localparam [3:0]       MAXLM_4 = MAXLM[3:0];
localparam [PB-1:0]    ONES_P  = {PB{1'b1}};
localparam [MGW-1:0]   ONE_MG  = 1;
localparam [MGW-1:0]   TWO_MG  = 2;

// raw record: entries, lanes with their position in the stream, check,
// carry, j, n_g, m_g, lanes L, tile, first, eoc, last, cut (a cut beat's
// record, checked and never a beat)
localparam integer RAW_W = N*EW + N + 2 + PB + 4 + MGW + LW + TW + 4;
// beat record: lanes, column j, tile, first, eoc, last, cut
localparam integer OUT_W = N*Q + 4 + TW + 4;

// parameter checks
generate
    if (N < 1 || Q < 1 || B < 1 || MAX_O < 1 || MAX_O > 65535 || KEEP < 1 || KEEP > 15 ||
        MAXLM < 1 || MAXLM > 4 || WIN < N*EW || WIN < 8) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_nm_decoder: need N, Q, B >= 1, 1 <= MAX_O <= 65535, 1 <= KEEP <= 15, 1 <= MAXLM <= 4, WIN >= max(N*(MAXLM+Q), 8)");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

wire           running;
wire [LW-1:0]  lanes;
wire [LW-1:0]  lanes_nx;
wire [TW-1:0]  tile;
wire           first;
wire           eoc;
wire           last;
wire           pipe_ready;
wire           pipe_busy;
wire           pipe_valid;
wire [LW-1:0]  unused_lanes_nx_next;
wire [RW-1:0]  unused_rows;
wire [RBW-1:0] unused_rbase;
wire [RW-1:0]  unused_rleft;

reg            hdr_q, hdr_d;       // phase: the header is next
reg            h1_q, h1_d;         // phase: the cycle after the header (H1)
reg            bt_q, bt_d;         // phase: beats (a good header taken)
reg  [CW-1:0]  need_q, need_d;     // bits the header or the current beat takes
reg  [3:0]     n_q, n_d;           // the header's n
reg  [3:0]     lm_q, lm_d;         // the header's log2 m
reg  [PB-1:0]  ml_q, ml_d;         // m - 1
reg  [MGW-1:0] mv_q, mv_d;         // m
reg  [31:0]    km1_q, km1_d;       // K - 1
reg  [31:0]    ga_q, ga_d;         // groups after the current one
reg            gnl_q;              // the next group is the last (ga_q == 1, a cycle late)
reg  [MGW-1:0] mlast_q;            // m_g of the last group, ((K - 1) mod m) + 1
reg  [3:0]     nlast_q;            // n_g of the last group, min(n, m_g)
reg  [CSW-1:0] thn_q;              // carry thermometer of a whole group (n columns)
reg  [CSW-1:0] thl_q;              // carry thermometer of the last group
reg  [PB-1:0]  j_q, j_d;           // the current column within its group
reg  [MGW-1:0] mg_q, mg_d;         // m_g: columns of the current group
reg  [3:0]     ng_q, ng_d;         // n_g = min(n, m_g)
reg  [CSW-1:0] cs_q, cs_d;         // bit i: column j + i of the group carries entries
reg  [CSW-1:0] cs0_q, cs0_d;       // cs_q at column 0 of the current group
reg            c0_q, c0_d;         // j == 0
reg            lc_q, lc_d;         // j == m_g - 1: the tile's last column of the group
reg            gl_q, gl_d;         // the current group is the last
reg  [CW-1:0]  nt_q, nt_d;         // bits of the tile's beats that carry entries
reg            pdone_q, pdone_d;   // a cut beat's record went into stage 1
reg            pchk_q, pchk_d;     // and its check is registered
// a format error found (stage 1 or the header) and its code, to the sequencer
wire           err;
wire [3:0]     err_code;

// ---- the loop: count compare against a register ----------------------------
wire           carry    = cs_q[0];
wire           enough   = win_count_i >= {{(CNT_W-CW){1'b0}}, need_q};
// the aligner's pick: the compare ANDed with one term from registers
// (the header is next, or a beat that stage 1 can take)
wire           arm      = running && (hdr_q || (bt_q && pipe_ready));
wire           pick     = arm && enough;
wire           hdr_take = pick && hdr_q;
wire           fire     = pick && bt_q;
// a beat cut by the end of the stream: its record is checked once in stage 1
wire           waiting  = (hdr_q || bt_q) && !enough;
wire           pfire    = running && bt_q && !enough && win_last_i && pipe_ready && !pdone_q;
// truncation is passed on only after that check (the header has none)
wire           wait_seq = waiting && (hdr_q || pchk_q);

assign win_need_o = need_q;
assign win_pick_o = pick;

// the registered log2 m, one-hot (1..MAXLM)
reg  [MAXLM:1] lm_oh;
integer        kk;

always @* begin
    for (kk = 1; kk <= MAXLM; kk = kk + 1) begin
        lm_oh[kk] = lm_q == kk[3:0];
    end
end

// ---- the header: taken as it is (n and log2 m registered, no logic after
// the window), checked and turned into the first group's geometry and the
// first beat's bits in the next cycle (H1) from registers, so the first
// beat may fire in the cycle after H1 ----
// per log2 m = 1..MAXLM, registered: the first beat's bits L*(log2 m + Q),
// K <= m; and K > i for the carry thermometer's bits
reg  [CW-1:0]  nd_q [1:MAXLM];
reg  [MAXLM:1] kle_q;
reg  [CSW-1:0] klt_q;
wire [CW-1:0]  lanes_h = {{(CW-LW){1'b0}}, lanes};
integer        aa;

always @(posedge clk) begin
    for (aa = 1; aa <= MAXLM; aa = aa + 1) begin
        nd_q[aa]  <= lanes_h * (Q_C + aa[CW-1:0]);
        kle_q[aa] <= (km1_q >> aa) == 32'd0;
    end
    for (aa = 0; aa < CSW; aa = aa + 1) begin
        klt_q[aa] <= km1_q >= aa;
    end
end

// H1: m - 1, m, the first beat's bits, the groups after the first
// (K - 1) >> log2 m, K <= m, selected by the registered log2 m
reg  [PB-1:0]  ml_h;
reg  [MGW-1:0] mv_h;
reg  [CW-1:0]  need_h;
reg  [31:0]    ga_h;
reg            kle_h;
integer        hh;

always @* begin
    ml_h   = {PB{1'b0}};
    mv_h   = {MGW{1'b0}};
    need_h = {CW{1'b0}};
    ga_h   = 32'd0;
    kle_h  = 1'b0;
    for (hh = 1; hh <= MAXLM; hh = hh + 1) begin
        if (lm_oh[hh]) begin
            ml_h   = ml_h | ~(ONES_P << hh);
            mv_h   = mv_h | (ONE_MG << hh);
            need_h = need_h | nd_q[hh];
            ga_h   = ga_h | (km1_q >> hh);
            kle_h  = kle_h | kle_q[hh];
        end
    end
end

// n above KEEP (none when KEEP is 15, the format's largest n)
wire           n_above;
generate
    if (KEEP < 15) begin : g_n_above
        assign n_above = n_q > KEEP_4;
    end else begin : g_n_any
        assign n_above = 1'b0;
    end
endgenerate

// the header check: n = 0, n >= m, log2 m outside 1..MAXLM, n > KEEP
wire           bad_h   = n_q == 4'd0 || lm_q == 4'd0 || lm_q > MAXLM_4 ||
                         {1'b0, n_q} >= (5'd1 << lm_q[2:0]) || n_above;
// the first group: m_g = min(K, m), n_g = min(n, K) (n < m), column i
// carries when i < n and i < K
wire           k_small = km1_q[31:4] == 28'd0;
wire [4:0]     k_5     = km1_q[4:0] + 5'd1;
wire [MGW-1:0] mg_h    = kle_h ? k_5[MGW-1:0] : mv_h;
wire [3:0]     ng_h    = (!k_small || n_q <= k_5[3:0] || k_5[4]) ? n_q : k_5[3:0];
reg  [CSW-1:0] cs_h;
integer        ii;

always @* begin
    for (ii = 0; ii < CSW; ii = ii + 1) begin
        cs_h[ii] = ii < KE && n_q > ii[3:0] && klt_q[ii];
    end
end

// ---- beside the loop: the geometry of the next beat, from registers --------
// the next beat: the tile's next column, or after its last column the next
// tile's column 0 (after the last tile, the next group's)
wire [CSW-1:0] cs_next  = gnl_q ? thl_q : thn_q;
wire [MGW-1:0] mg_next  = gnl_q ? mlast_q : mv_q;
// the next tile's lanes times its entry bits log2 m + Q
wire [CW-1:0]  lanes_c   = {{(CW-LW){1'b0}}, lanes_nx};
wire [CW-1:0]  need_new  = lanes_c * Q_C + lanes_c * {{(CW-3){1'b0}}, lm_q[2:0]};
// column j + 1 is the group's last
wire [MGW-1:0] j_2       = {1'b0, j_q} + TWO_MG;

always @* begin
    hdr_d   = hdr_q;
    h1_d    = 1'b0;
    bt_d    = bt_q;
    need_d  = need_q;
    n_d     = n_q;
    lm_d    = lm_q;
    ml_d    = ml_q;
    mv_d    = mv_q;
    km1_d   = km1_q;
    ga_d    = ga_q;
    j_d     = j_q;
    mg_d    = mg_q;
    ng_d    = ng_q;
    cs_d    = cs_q;
    cs0_d   = cs0_q;
    c0_d    = c0_q;
    lc_d    = lc_q;
    gl_d    = gl_q;
    nt_d    = nt_q;
    pdone_d = pdone_q || pfire;
    pchk_d  = pdone_q;
    if (hdr_take) begin
        hdr_d  = 1'b0;
        h1_d   = 1'b1;
        n_d    = win_data_i[3:0];
        lm_d   = win_data_i[7:4];
    end
    if (h1_q) begin
        // a bad header stops the sequencer a cycle later (err_i); no beat fires
        bt_d   = !bad_h;
        ml_d   = ml_h;
        mv_d   = mv_h;
        j_d    = {PB{1'b0}};
        cs_d   = cs_h;
        cs0_d  = cs_h;
        c0_d   = 1'b1;
        lc_d   = mg_h == ONE_MG;
        gl_d   = ga_h == 32'd0;
        need_d = need_h;
        nt_d   = need_h;
        ga_d   = ga_h;
        mg_d   = mg_h;
        ng_d   = ng_h;
    end
    if (fire) begin
        if (!lc_q) begin
            // the tile's next column
            j_d    = j_q + 1'b1;
            cs_d   = cs_q >> 1;
            c0_d   = 1'b0;
            lc_d   = j_2 == mg_q;
            need_d = cs_q[1] ? nt_q : {CW{1'b0}};
        end else begin
            // the next tile's column 0: of this group, or after the last
            // tile (eoc) of the next group
            j_d    = {PB{1'b0}};
            c0_d   = 1'b1;
            nt_d   = need_new;
            if (eoc) begin
                ga_d  = ga_q - 32'd1;
                gl_d  = gnl_q;
                mg_d  = mg_next;
                ng_d  = gnl_q ? nlast_q : n_q;
                cs_d  = cs_next;
                cs0_d = cs_next;
                lc_d  = mg_next == ONE_MG;
                need_d = cs_next[0] ? need_new : {CW{1'b0}};
            end else begin
                cs_d  = cs0_q;
                lc_d  = mg_q == ONE_MG;
                need_d = cs0_q[0] ? need_new : {CW{1'b0}};
            end
        end
    end
    if (start_i) begin
        hdr_d   = 1'b1;
        h1_d    = 1'b0;
        bt_d    = 1'b0;
        need_d  = HDR_C;
        km1_d   = cfg_cols_i - 32'd1;
        j_d     = {PB{1'b0}};
        pdone_d = 1'b0;
        pchk_d  = 1'b0;
    end
end

// from registers, a cycle late and stable before they are used: the first
// wrap comes two cycles after the header at the earliest (m >= 2), and a
// group lasts m >= 2 beats; the last group's m_g, n_g and thermometers
wire [MGW-1:0] mlast_d = {1'b0, km1_q[PB-1:0] & ml_q} + 1'b1;
wire [5:0]     mlast_6 = {{(6-MGW){1'b0}}, mlast_d};
wire [3:0]     nlast_d = {2'b00, n_q} < mlast_6 ? n_q : mlast_6[3:0];
reg  [CSW-1:0] thn_d;
reg  [CSW-1:0] thl_d;
integer        tt;

always @* begin
    for (tt = 0; tt < CSW; tt = tt + 1) begin
        thn_d[tt] = tt < KE && n_q > tt[3:0];
        thl_d[tt] = tt < KE && n_q > tt[3:0] && mlast_d > tt[MGW-1:0];
    end
end

always @(posedge clk) begin
    gnl_q   <= h1_q ? ga_h == 32'd1 : ga_q == 32'd1;
    mlast_q <= mlast_d;
    nlast_q <= nlast_d;
    thn_q   <= thn_d;
    thl_q   <= thl_d;
end

always @(posedge clk) begin
    if (rst) begin
        hdr_q   <= 1'b1;
        h1_q    <= 1'b0;
        bt_q    <= 1'b0;
        need_q  <= HDR_C;
        n_q     <= 4'd0;
        lm_q    <= 4'd0;
        ml_q    <= {PB{1'b0}};
        mv_q    <= {MGW{1'b0}};
        km1_q   <= 32'd0;
        ga_q    <= 32'd0;
        j_q     <= {PB{1'b0}};
        mg_q    <= {MGW{1'b0}};
        ng_q    <= 4'd0;
        cs_q    <= {CSW{1'b0}};
        cs0_q   <= {CSW{1'b0}};
        c0_q    <= 1'b0;
        lc_q    <= 1'b0;
        gl_q    <= 1'b0;
        nt_q    <= {CW{1'b0}};
        pdone_q <= 1'b0;
        pchk_q  <= 1'b0;
    end else begin
        hdr_q   <= hdr_d;
        h1_q    <= h1_d;
        bt_q    <= bt_d;
        need_q  <= need_d;
        n_q     <= n_d;
        lm_q    <= lm_d;
        ml_q    <= ml_d;
        mv_q    <= mv_d;
        km1_q   <= km1_d;
        ga_q    <= ga_d;
        j_q     <= j_d;
        mg_q    <= mg_d;
        ng_q    <= ng_d;
        cs_q    <= cs_d;
        cs0_q   <= cs0_d;
        c0_q    <= c0_d;
        lc_q    <= lc_d;
        gl_q    <= gl_d;
        nt_q    <= nt_d;
        pdone_q <= pdone_d;
        pchk_q  <= pchk_d;
    end
end

// ---- the entries of the beat: the window's bits as they are -----------------
// lane l's entry starts at l*(log2 m + Q): position (log2 m bits) then value.
// The beat's first N*(MAXLM+Q) window bits go as they are into stage 1 and
// the slot registers (no select between the window and a register); the
// entries are picked from them after the register by the registered log2 m.
wire [N*EW-1:0] ents = win_data_i[N*EW-1:0];

// the N entries of a beat's bits, each as EW bits: position (zero-extended
// to PB) then value
function [N*EW-1:0] pick_ents;
    input [N*EW-1:0] r;
    input [MAXLM:1]  oh;
    reg   [N*EW+EW-1:0] rx;
    integer          ll;
    integer          a;
    begin
        rx   = {{EW{1'b0}}, r};
        pick_ents = {N*EW{1'b0}};
        for (ll = 0; ll < N; ll = ll + 1) begin
            for (a = 1; a <= MAXLM; a = a + 1) begin
                if (oh[a]) begin
                    pick_ents[ll*EW +: EW] = pick_ents[ll*EW +: EW] |
                        {rx[ll*(a+Q) + a +: Q], rx[ll*(a+Q) +: PB] & ~(ONES_P << a)};
                end
            end
        end
    end
endfunction

// the count widened for the compares with the lanes' field ends
wire [31:0]    cnt32 = {{(32-CNT_W){1'b0}}, win_count_i};
// lanes whose position field is in the stream (a cut beat's checks)
wire [N-1:0]   pres;

genvar l;
genvar s;
generate
    for (l = 0; l < N; l = l + 1) begin : g_pres
        reg            pr;
        integer        a;
        always @* begin
            pr  = 1'b0;
            for (a = 1; a <= MAXLM; a = a + 1) begin
                if (lm_oh[a]) begin
                    pr  = pr | (cnt32 >= l*(a+Q) + a);
                end
            end
        end
        assign pres[l] = pr;
    end
endgenerate

// ---- the slots: entry s of every lane of the current tile ------------------
// written when beat (t, g*m + s) fires; stage 1 reads them (the record and
// the entries before it of its tile meet there)
wire [KE*N*EW-1:0] slot_rd;

generate
    for (s = 0; s < KE; s = s + 1) begin : g_slot
        localparam [PB-1:0] S_IDX = s;
        // no reset: an entry is written before a later beat of its tile reads it
        reg [N*EW-1:0] slot_q;
        wire           we = fire && carry && j_q == S_IDX;
        always @(posedge clk) begin
            if (we) begin
                slot_q <= ents;
            end
        end
        assign slot_rd[s*N*EW +: N*EW]  = pick_ents(slot_q, lm_oh);
    end
endgenerate

ws_beat_sequencer #(
    .N(N),
    .MAX_O(MAX_O),
    .ERR_LAT(2),
    .GROUPED(1)
) u_seq (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
    .grp_col0_i(c0_q),
    .grp_lcol_i(lc_q),
    .grp_last_i(gl_q),
    .fire_i(fire),
    .wait_i(wait_seq),
    .err_i(err),
    .err_code_i(err_code),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
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

// ---- stage 1 -> stage 2: the entry whose position is j, and the checks -----
wire [RAW_W-1:0] raw;
wire [OUT_W-1:0] beat;
wire [N*EW-1:0]  raw_ents  = pick_ents(raw[RAW_W-1 -: N*EW], lm_oh);
wire [N-1:0]     raw_pres  = raw[RAW_W-N*EW-1 -: N];
wire             raw_chk   = raw[RAW_W-N*EW-N-1];
wire             raw_carry = raw[RAW_W-N*EW-N-2];
wire [PB-1:0]    raw_j     = raw[LW+TW+4+MGW+4 +: PB];
wire [3:0]       raw_ng    = raw[LW+TW+4+MGW +: 4];
wire [MGW-1:0]   raw_mg    = raw[LW+TW+4 +: MGW];
wire [LW-1:0]    raw_lanes = raw[TW+4 +: LW];
wire [N*Q-1:0]   ext_data;
wire [N-1:0]     bad;

// slot s holds an entry of this group: s < min(j, n_g)
wire [KE-1:0]    slot_ok;
generate
    for (s = 0; s < KE; s = s + 1) begin : g_slot_ok
        localparam [PB-1:0] S_IDX = s;
        localparam [3:0]    S_4   = s;
        assign slot_ok[s] = S_IDX < raw_j && S_4 < raw_ng;
    end
endgenerate

generate
    for (l = 0; l < N; l = l + 1) begin : g_lane
        localparam [LW-1:0] L_IDX = l;
        wire [PB-1:0] pos = raw_ents[l*EW +: PB];
        wire [Q-1:0]  val = raw_ents[l*EW + PB +: Q];
        reg  [Q-1:0]  v;
        reg  [PB-1:0] prev;
        integer       k;
        always @* begin
            // this beat's own entry j
            v = (raw_carry && pos == raw_j) ? val : {Q{1'b0}};
            prev = {PB{1'b0}};
            for (k = 0; k < KE; k = k + 1) begin
                if (slot_ok[k] && slot_rd[k*N*EW + l*EW +: PB] == raw_j) begin
                    v = v | slot_rd[k*N*EW + l*EW + PB +: Q];
                end
                // entry j - 1's position
                if ({1'b0, raw_j} == k[PB:0] + 1'b1) begin
                    prev = slot_rd[k*N*EW + l*EW +: PB];
                end
            end
        end
        wire real_l = L_IDX < raw_lanes;
        assign ext_data[l*Q +: Q] = real_l ? v : {Q{1'b0}};
        // entry j's position: above entry j - 1's, below m_g
        assign bad[l] = real_l && raw_pres[l] &&
                        ({1'b0, pos} >= raw_mg || (raw_j != {PB{1'b0}} && pos <= prev));
    end
endgenerate

// a checked record in stage 1 with a bad position (while it stays there),
// or a bad header at the check, registered: err_i two cycles after the
// beat fired (the sequencer's ERR_LAT), a cycle after the header check
wire           err_pos  = raw_chk && |bad;
wire           err_hdr  = h1_q && bad_h;
reg            err_q;
reg            ehdr_q;

always @(posedge clk) begin
    if (rst || start_i) begin
        err_q  <= 1'b0;
        ehdr_q <= 1'b0;
    end else begin
        err_q  <= err_hdr || err_pos;
        ehdr_q <= err_hdr;
    end
end

assign         err      = err_q;
assign         err_code = ehdr_q ? `WS_ERR_BAD_NM_HEADER : `WS_ERR_BAD_NM_POSITION;

// a beat's record checks every lane, a cut beat's those in the stream
wire [N-1:0]   chk_pres = fire ? {N{1'b1}} : pres;

ws_beat_pipe #(
    .RAW_W(RAW_W),
    .OUT_W(OUT_W)
) u_pipe (
    .clk(clk),
    .rst(rst),
    .flush_i(start_i || error_o),
    .s_raw_i({ents, chk_pres, (fire || pfire) && carry, carry, j_q, ng_q, mg_q, lanes,
              tile, first, eoc, last, pfire}),
    .s_fire_i(fire || pfire),
    .s_ready_o(pipe_ready),
    .raw_o(raw),
    .ext_i({ext_data, {{(4-PB){1'b0}}, raw_j}, raw[TW+3:0]}),
    .m_data_o(beat),
    .m_valid_o(pipe_valid),
    .m_ready_i(m_beat_ready_i),
    .busy_o(pipe_busy)
);

// the window bits above the widest beat are not read
generate
    if (WIN > N*EW) begin : g_unused_win
        wire unused_win = ^win_data_i[WIN-1:N*EW];
    end
endgenerate

assign m_beat_data_o  = beat[OUT_W-1 -: N*Q];
assign m_beat_col_o   = beat[TW+4 +: 4];
assign m_beat_tile_o  = beat[4 +: TW];
assign m_beat_first_o = beat[3];
assign m_beat_eoc_o   = beat[2];
assign m_beat_last_o  = beat[1];
// a beat never leaves once an error is found (err_q, the cycle before the
// sequencer flags it) or flagged (the pipeline is flushed next); a cut
// beat's record never does
assign m_beat_valid_o = pipe_valid && !error_o && !err_q && !beat[0];
assign win_en_o       = running;

assign busy_o       = running || pipe_busy;
assign starve_o     = running && waiting;

endmodule

`resetall
`default_nettype wire
