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
 * Beats go in stream order (column by column, row tile by row tile).  One
 * beat per cycle: the decoder looks at the next N+1 candidate entries at
 * offsets off0 + j*(R+Q), off0 = P when the column starts in this cycle
 * (the count is parsed in the same cycle as the column's first beat), and
 * computes their rows by a prefix sum from the cursor (the row after the
 * last entry taken, 0 at the column start):
 *   row_j = cursor + run_0 + ... + run_j + j
 * It takes every entry j < remaining with row_j < t*N + N in stream order;
 * the N+1-th candidate is only looked at for its run (an entry beyond a full
 * last tile must be flagged).  A tile with no entries is emitted without
 * consuming bits.  The decoder waits only for the bits it needs to decide:
 * the count (at a column start), the entries taken, and the run of the
 * first entry not taken if any remain (and its value when its row is past
 * the column end).
 *
 * The candidates are evaluated in stream order and the first one that
 * cannot be taken decides the beat:
 *   no entry left                 -> beat complete
 *   run bits not yet buffered     -> wait (truncated if the final word is in)
 *   row_j >= O                    -> error 3 once the entry's value bits are
 *                                    buffered (else wait / truncated), so the
 *                                    code matches a sequential reader that
 *                                    reads run and value, then checks the row
 *   row_j >= t*N + N              -> beat complete (entry for a later tile)
 *   value bits not yet buffered   -> wait (truncated if the final word is in)
 *
 * The beat sequence (tile t / column k counters, real lanes L, last beat,
 * configuration, truncation and end-of-stream checks) is the shared
 * ws_beat_sequencer (u_seq).
 *
 * Errors (sticky until start_i; code on error_code_o): 1 truncated, 2 count
 * C > O, 3 entry on a row >= O, 4 trailing data after the last beat,
 * 5 bad configuration (O == 0, O > MAX_O, K == 0).  A beat in error never
 * fires.
 */
module ws_csc_decoder #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // bus word bits (sizes the aligner count)
    parameter integer B     = 64,
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
    input  wire [P+N*(R+Q)+R-1:0]               win_data_i,
    // aligner window: number of buffered bits
    input  wire [$clog2(2*(P+N*(R+Q)+R)+3*B+1)-1:0] win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: bits the current beat takes when it fires
    output wire [$clog2(P+N*(R+Q)+R+1)-1:0]     win_need_o,
    // aligner window: the beat fires, consuming win_need_o bits
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
    // status: error code (0 none, 1..5 as above)
    output wire [3:0]                           error_code_o,
    // status: decode phase waiting for input bits
    output wire                                 starve_o
);

localparam integer E       = R + Q;
localparam integer WIN     = P + N*E + R;
localparam integer CNT_W   = $clog2(2*WIN + 3*B + 1);
localparam integer CW      = $clog2(WIN + 1);
localparam integer RW      = $clog2(MAX_O + 1);
localparam integer RBW     = $clog2(MAX_O + N + 1);
localparam integer LW      = $clog2(N + 1);
// rows computed from the candidates reach at most this
localparam integer ROW_MAX = MAX_O + (N + 1) * ((1 << R) - 1) + N;
localparam integer XW      = $clog2(ROW_MAX + 1);
// count compare width
localparam integer PW      = P > RW ? P : RW;

localparam [CW-1:0]  E_C     = E[CW-1:0];
localparam [CW-1:0]  P_C     = P[CW-1:0];

// parameter checks
generate
    if (N < 1 || Q < 1 || B < 1 || R < 1 || R > 16 || P < 1 || P > 32 ||
        MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_csc_decoder: need N, Q, B >= 1, 1 <= R <= 16, 1 <= P <= 32, 1 <= MAX_O <= 65535");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

localparam integer T       = (MAX_O + N - 1) / N;
localparam integer TW      = T > 1 ? $clog2(T) : 1;
localparam integer LIW     = N > 1 ? $clog2(N) : 1;
localparam integer NC      = N + 1;                       // candidates
// prefix sums of (run + 1) over the candidates
localparam integer SUMW    = $clog2(NC * (1 << R) + 1);
// signed row relative to the tile base: -MAX_O .. ROW_MAX
localparam integer SXW     = XW + 1;
localparam integer PLV     = $clog2(NC);                  // prefix levels
// raw record: take mask, lane of each candidate, values, tile, first, eoc, last
localparam integer RAW_W   = N + N*LIW + N*Q + TW + 3;
localparam integer OUT_W   = N*Q + TW + 3;

localparam [SXW-1:0] N_SX  = N[SXW-1:0];

reg            incol_q, incol_d;   // count of column k parsed
reg [RW-1:0]   rem_q, rem_d;       // entries of column k not yet taken
// row after the last entry taken, relative to the tile base (signed: the
// cursor stays behind while tiles without entries go by)
reg [SXW-1:0]  cb_q, cb_d;

wire           running;
wire [RW-1:0]  rows;
wire [RBW-1:0] unused_rbase;
wire [RW-1:0]  rleft;
wire [LW-1:0]  lanes;
wire [TW-1:0]  tile;
wire           first;
wire           last_tile;
wire           last;
wire           pipe_ready;
wire           pipe_busy;
wire [LW-1:0]  unused_lanes_nx;
wire [LW-1:0]  unused_lanes_nx_next;
wire           pipe_valid;

wire           col_start = !incol_q;
wire [P-1:0]   cnt_f     = win_data_i[P-1:0];
wire [PW-1:0]  cnt_x     = {{(PW-P){1'b0}}, cnt_f};
wire [PW-1:0]  rows_px   = {{(PW-RW){1'b0}}, rows};
wire           have_cnt  = win_count_i >= {{(CNT_W-CW){1'b0}}, P_C};
wire           cnt_bad   = cnt_x > rows_px;
// only the low RW bits of a good count are used
wire           unused_cnt_x = ^cnt_x;

// the entries start after the count in a column's first beat
wire [WIN-1:0] wsh    = col_start ? (win_data_i >> P) : win_data_i;
wire [RW-1:0]  rem    = col_start ? cnt_x[RW-1:0] : rem_q;
wire [SXW-1:0] cb     = col_start ? {SXW{1'b0}} : cb_q;
wire [CW-1:0]  off0   = col_start ? P_C : {CW{1'b0}};
// the count bits of the window are not entries
wire           unused_wsh = ^wsh[WIN-1:N*E+R];

wire [SXW-1:0] rleft_sx = {{(SXW-RW){1'b0}}, rleft};
wire [SXW-1:0] lanes_sx = {{(SXW-LW){1'b0}}, lanes};

// ---- parallel prefix (Sklansky) of run_j + 1 ------------------------------
// level 0: run_j + 1; level v+1: index j with bit v set adds the last sum of
// the lower half of its 2^(v+1) block
reg  [NC*SUMW-1:0] pfx;
integer            pv;
integer            pj;

// in place: at level v the nodes written have bit v set, their sources not
always @* begin
    for (pj = 0; pj < NC; pj = pj + 1) begin
        pfx[pj*SUMW +: SUMW] = {{(SUMW-R){1'b0}}, wsh[pj*E +: R]} + 1'b1;
    end
    for (pv = 0; pv < PLV; pv = pv + 1) begin
        for (pj = 0; pj < NC; pj = pj + 1) begin
            if (((pj >> pv) & 1) == 1) begin
                pfx[pj*SUMW +: SUMW] = pfx[pj*SUMW +: SUMW] +
                    pfx[(((pj >> (pv + 1)) << (pv + 1)) + (1 << pv) - 1)*SUMW +: SUMW];
            end
        end
    end
end

// ---- the candidates, in stream order ------------------------------------------
reg  [NC-1:0]      take;       // candidate j is taken in this beat
reg                need_more;  // the beat waits for bits
reg                err_row;    // a candidate lands on a row >= O
reg  [LW-1:0]      n_take;     // number of entries taken
reg  [SXW-1:0]     cur_next;   // row after the last entry taken (relative)
reg  [SXW-1:0]     last_row;   // the same when an entry is taken
reg  [N*LIW-1:0]   lane_of;    // lane of each candidate (when taken)
reg  [SXW-1:0]     row_j;
reg  [CNT_W-1:0]   run_end;
reg  [CNT_W-1:0]   val_end;
reg                reach;
reg                go_on;
integer            c;

always @* begin
    take      = {NC{1'b0}};
    need_more = 1'b0;
    err_row   = 1'b0;
    n_take    = {LW{1'b0}};
    cur_next  = cb;
    lane_of   = {N*LIW{1'b0}};
    row_j     = {SXW{1'b0}};
    run_end   = {CNT_W{1'b0}};
    val_end   = {CNT_W{1'b0}};

    reach = !col_start || (have_cnt && !cnt_bad);
    if (col_start && !have_cnt) begin
        need_more = 1'b1;
    end

    for (c = 0; c < NC; c = c + 1) begin
        row_j   = cb + {{(SXW-SUMW){1'b0}}, pfx[c*SUMW +: SUMW]} - 1'b1;
        run_end = {{(CNT_W-CW){1'b0}}, off0} + c[CNT_W-1:0] * E[CNT_W-1:0] + R[CNT_W-1:0];
        val_end = run_end + Q[CNT_W-1:0];
        if (c < N) begin
            lane_of[c*LIW +: LIW] = row_j[LIW-1:0];
        end
        go_on = 1'b0;
        if (reach && ({{(32-RW){1'b0}}, rem} > c)) begin
            if (win_count_i < run_end) begin
                need_more = 1'b1;
            end else if (row_j >= rleft_sx) begin
                if (win_count_i < val_end) begin
                    need_more = 1'b1;
                end else begin
                    err_row = 1'b1;
                end
            end else if (row_j >= lanes_sx || c == N) begin
                // an entry for a later tile (or the N+1-th candidate)
            end else if (win_count_i < val_end) begin
                need_more = 1'b1;
            end else begin
                take[c]  = 1'b1;
                go_on    = 1'b1;
            end
        end
        reach = go_on;
    end

    // the takes are a prefix: the last one decides count and cursor, picked
    // by a one-hot AND-OR rather than a chain of adders or muxes
    last_row = {SXW{1'b0}};
    for (c = 0; c < N; c = c + 1) begin
        if (take[c] && !take[c+1]) begin
            n_take   = n_take | (c[LW-1:0] + 1'b1);
            last_row = last_row | (cb + {{(SXW-SUMW){1'b0}}, pfx[c*SUMW +: SUMW]});
        end
    end
    cur_next = take[0] ? last_row : cb;
end

// the N+1-th candidate is never taken (it only decides error 3)
wire unused_take = take[N];
wire beat_ok = !need_more && !err_row && !(col_start && cnt_bad);
wire err_cnt = col_start && have_cnt && cnt_bad;
wire fire    = running && beat_ok && pipe_ready;

ws_beat_sequencer #(
    .N(N),
    .MAX_O(MAX_O)
) u_seq (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
    .fire_i(fire),
    .wait_i(need_more),
    .err_i(err_cnt || err_row),
    .err_code_i(err_cnt ? `WS_ERR_COUNT_EXCEEDS_ROWS : `WS_ERR_RUN_PAST_COLUMN_END),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
    .running_o(running),
    .rows_o(rows),
    .tile_o(tile),
    .rbase_o(unused_rbase),
    .rleft_o(rleft),
    .lanes_o(lanes),
    .lanes_nx_o(unused_lanes_nx),
    .lanes_nx_next_o(unused_lanes_nx_next),
    .first_o(first),
    .eoc_o(last_tile),
    .last_o(last),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o)
);

always @* begin
    incol_d = incol_q;
    rem_d   = rem_q;
    cb_d    = cb_q;

    if (fire) begin
        rem_d   = rem - {{(RW-LW){1'b0}}, n_take};
        // the next tile's base is N rows further on; a new column restarts
        cb_d    = last_tile ? {SXW{1'b0}} : cur_next - N_SX;
        incol_d = !last_tile;
    end

    if (start_i) begin
        incol_d = 1'b0;
        rem_d   = {RW{1'b0}};
        cb_d    = {SXW{1'b0}};
    end
end

always @(posedge clk) begin
    if (rst) begin
        incol_q <= 1'b0;
        rem_q   <= {RW{1'b0}};
        cb_q    <= {SXW{1'b0}};
    end else begin
        incol_q <= incol_d;
        rem_q   <= rem_d;
        cb_q    <= cb_d;
    end
end

// ---- stage 1 -> stage 2: entries to their lanes --------------------------------
wire [N*Q-1:0] vals;

genvar j;

generate
    for (j = 0; j < N; j = j + 1) begin : g_val
        assign vals[j*Q +: Q] = wsh[j*E + R +: Q];
    end
endgenerate

wire [RAW_W-1:0] raw;
wire [OUT_W-1:0] beat;
wire [N-1:0]     raw_take = raw[RAW_W-1 -: N];
wire [N*LIW-1:0] raw_lane = raw[TW+3+N*Q +: N*LIW];
wire [N*Q-1:0]   raw_vals = raw[TW+3 +: N*Q];
reg  [N*Q-1:0]   ext_data;
integer          l;
integer          e;

always @* begin
    ext_data = {N*Q{1'b0}};
    for (l = 0; l < N; l = l + 1) begin
        for (e = 0; e < N; e = e + 1) begin
            if (raw_take[e] && raw_lane[e*LIW +: LIW] == l[LIW-1:0]) begin
                ext_data[l*Q +: Q] = raw_vals[e*Q +: Q];
            end
        end
    end
end

ws_beat_pipe #(
    .RAW_W(RAW_W),
    .OUT_W(OUT_W)
) u_pipe (
    .clk(clk),
    .rst(rst),
    .flush_i(start_i || error_o),
    .s_raw_i({take[N-1:0], lane_of, vals, tile, first, last_tile, last}),
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
// one length (a candidate per entry count was tried: more area, no faster
// at n8, as the prefix and the row compares dominate)
assign win_need_o     = off0 + {{(CW-LW){1'b0}}, n_take} * E_C;
assign win_pick_o     = fire;
assign win_en_o       = running;

assign busy_o       = running || pipe_busy;
assign starve_o     = running && need_more;

endmodule

`resetall
`default_nettype wire
