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
    input  wire [$clog2(P+N*(R+Q)+R+3*B+1)-1:0] win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: bits consumed this cycle
    output wire [$clog2(P+N*(R+Q)+R+1)-1:0]     win_consume_o,
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
localparam integer CNT_W   = $clog2(WIN + 3*B + 1);
localparam integer CW      = $clog2(WIN + 1);
localparam integer RW      = $clog2(MAX_O + 1);
localparam integer RBW     = $clog2(MAX_O + N + 1);
localparam integer LW      = $clog2(N + 1);
// rows computed from the candidates reach at most this
localparam integer ROW_MAX = MAX_O + (N + 1) * ((1 << R) - 1) + N;
localparam integer XW      = $clog2(ROW_MAX + 1);
// count compare width
localparam integer PW      = P > RW ? P : RW;

localparam [RBW-1:0] N_RB    = N[RBW-1:0];
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

reg           incol_q, incol_d;   // count of column k parsed
reg [RW-1:0]  rem_q, rem_d;       // entries of column k not yet taken
reg [RW-1:0]  cur_q, cur_d;       // row after the last entry taken

// beat sequence: tile/column counters, configuration and end-of-stream checks
wire           running;
wire [RW-1:0]  rows;
wire [RBW-1:0] rbase;
wire           last_tile;
wire           fire      = m_beat_valid_o && m_beat_ready_i;
// the lanes of the tile are not needed here (rows come from the entries)
wire [LW-1:0]  unused_lanes;

// tile geometry
wire [RBW-1:0] tend      = rbase + N_RB;

// column start: count field
wire           col_start = !incol_q;
wire [P-1:0]   cnt_f     = win_data_i[P-1:0];
wire [PW-1:0]  cnt_x     = {{(PW-P){1'b0}}, cnt_f};
wire [PW-1:0]  rows_px   = {{(PW-RW){1'b0}}, rows};
wire           have_cnt  = win_count_i >= {{(CNT_W-CW){1'b0}}, P_C};
wire           cnt_bad   = cnt_x > rows_px;
// only the low RW bits of a count <= O are kept
wire           unused_cnt_x = ^cnt_x;

// candidate entries
wire [WIN-1:0] wsh    = col_start ? (win_data_i >> P) : win_data_i;
wire [RW-1:0]  rem    = col_start ? cnt_x[RW-1:0] : rem_q;
wire [RW-1:0]  cur    = col_start ? {RW{1'b0}} : cur_q;
wire [CW-1:0]  off0   = col_start ? P_C : {CW{1'b0}};

wire [XW-1:0]  rows_x = {{(XW-RW){1'b0}}, rows};
wire [XW-1:0]  tend_x = {{(XW-RBW){1'b0}}, tend};
wire [XW-1:0]  rem_x  = {{(XW-RW){1'b0}}, rem};
wire [XW-1:0]  cur_x  = {{(XW-RW){1'b0}}, cur};
wire [XW-1:0]  rbase_x = {{(XW-RBW){1'b0}}, rbase};
// only the low bits of the shifted window are candidates
wire           unused_wsh = ^wsh[WIN-1:N*E+R];

reg  [(N+1)*XW-1:0] row_v;      // row of candidate j
reg  [N:0]          take;       // candidate j is taken in this beat
reg                 need_more;  // the beat waits for bits
reg                 err_row;    // a candidate lands on a row >= O
reg  [LW-1:0]       n_take;     // number of entries taken
reg  [XW-1:0]       cur_next;   // row after the last entry taken
reg  [N*Q-1:0]      beat;

reg  [XW-1:0]       acc;
reg  [XW-1:0]       row_j;
reg  [XW-1:0]       rel_j;
reg  [CNT_W-1:0]    run_end;
reg  [CNT_W-1:0]    val_end;
reg                 reach;
integer             j;
integer             l;

always @* begin
    row_v     = {(N+1)*XW{1'b0}};
    take      = {(N+1){1'b0}};
    need_more = 1'b0;
    err_row   = 1'b0;
    n_take    = {LW{1'b0}};
    cur_next  = cur_x;
    beat      = {N*Q{1'b0}};
    acc       = cur_x;
    row_j     = {XW{1'b0}};
    rel_j     = {XW{1'b0}};
    run_end   = {CNT_W{1'b0}};
    val_end   = {CNT_W{1'b0}};

    // the count must be present (and legal) before any entry is looked at
    reach = !col_start || (have_cnt && !cnt_bad);
    if (col_start && !have_cnt) begin
        need_more = 1'b1;
    end

    for (j = 0; j <= N; j = j + 1) begin
        // prefix sum of the runs: row_j = cursor + run_0..run_j + j
        acc   = acc + {{(XW-R){1'b0}}, wsh[j*E +: R]};
        row_j = acc;
        acc   = acc + 1'b1;
        row_v[j*XW +: XW] = row_j;

        run_end = {{(CNT_W-CW){1'b0}}, off0} + j[CNT_W-1:0] * E[CNT_W-1:0] + R[CNT_W-1:0];
        val_end = run_end + Q[CNT_W-1:0];

        if (reach) begin
            reach = 1'b0;
            if (rem_x > j[XW-1:0]) begin
                if (win_count_i < run_end) begin
                    need_more = 1'b1;
                end else if (row_j >= rows_x) begin
                    // reported once the entry is complete, as a sequential
                    // reader (run, value, then the row check) would
                    if (win_count_i < val_end) begin
                        need_more = 1'b1;
                    end else begin
                        err_row = 1'b1;
                    end
                end else if (row_j >= tend_x || j == N) begin
                    // belongs to a later tile (j == N never fits a tile)
                end else if (win_count_i < val_end) begin
                    need_more = 1'b1;
                end else begin
                    take[j]  = 1'b1;
                    reach    = 1'b1;
                    n_take   = n_take + 1'b1;
                    cur_next = row_j + 1'b1;
                end
            end
        end
    end

    // scatter the taken values onto their lanes
    for (j = 0; j < N; j = j + 1) begin
        rel_j = row_v[j*XW +: XW] - rbase_x;
        for (l = 0; l < N; l = l + 1) begin
            if (take[j] && rel_j == l[XW-1:0]) begin
                beat[l*Q +: Q] = wsh[j*E + R +: Q];
            end
        end
    end
end

wire beat_ok = !need_more && !err_row && !(col_start && cnt_bad);
// error 2: the count of the column is buffered and larger than O
wire err_cnt = col_start && have_cnt && cnt_bad;

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
    // count > O (once the count is buffered), else an entry on a row >= O
    .err_i(err_cnt || err_row),
    .err_code_i(err_cnt ? `WS_ERR_COUNT_EXCEEDS_ROWS : `WS_ERR_RUN_PAST_COLUMN_END),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
    .running_o(running),
    .rows_o(rows),
    .tile_o(m_beat_tile_o),
    .rbase_o(rbase),
    .lanes_o(unused_lanes),
    .first_o(m_beat_first_o),
    .eoc_o(last_tile),
    .last_o(m_beat_last_o),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o)
);

assign m_beat_valid_o = running && beat_ok;
assign m_beat_data_o  = beat;
assign m_beat_eoc_o   = last_tile;
assign win_consume_o  = fire ? (off0 + {{(CW-LW){1'b0}}, n_take} * E_C) : {CW{1'b0}};
assign win_en_o       = running;

assign busy_o       = running;
assign starve_o     = running && need_more;

// column state: count parsed, entries left, row cursor
always @* begin
    incol_d = incol_q;
    rem_d   = rem_q;
    cur_d   = cur_q;

    if (fire) begin
        rem_d   = rem - {{(RW-LW){1'b0}}, n_take};
        cur_d   = cur_next[RW-1:0];
        incol_d = !last_tile;
    end

    if (start_i) begin
        incol_d = 1'b0;
        rem_d   = {RW{1'b0}};
        cur_d   = {RW{1'b0}};
    end
end

always @(posedge clk) begin
    if (rst) begin
        incol_q <= 1'b0;
        rem_q   <= {RW{1'b0}};
        cur_q   <= {RW{1'b0}};
    end else begin
        incol_q <= incol_d;
        rem_q   <= rem_d;
        cur_q   <= cur_d;
    end
end

endmodule

`resetall
`default_nettype wire
