// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

`include "ws_defs.vh"

/*
 * weightstream beat sequencer, shared by every decoder
 *
 * Walks the beats of a layer in stream order (column k = 0..K-1, row tile
 * t = 0..ceil(O/N)-1 within each column) and owns the layer state that is
 * the same for every format:
 *   - start_i latches O and K and checks them (error 5: O == 0, O > MAX_O
 *     or K == 0), clears the tile and column counters and the status, and
 *     begins the decode phase (running_o);
 *   - the tile geometry of the current beat, all of it registered (the
 *     next beat's is computed while the current one waits, so no compare
 *     or subtraction lies between these outputs and the flip-flops): tile
 *     t, its first row rbase = t*N, the rows left O - t*N, last tile of the
 *     column (O - t*N <= N), real lanes L = N, or O - t*N in the last tile,
 *     first column (k == 0), last beat of the layer (last tile of column
 *     K-1);
 *   - each fired beat (fire_i) advances t, or k at the end of a column;
 *     after the last beat the end of the stream is checked in the next
 *     cycle: win_tail_ok_i (only zero padding of the final word left) sets
 *     done_o, else error 4 (trailing data); a format error the decoder
 *     raises in that cycle (err_i, found in the last beat and registered)
 *     comes first (ERR_LAT = 2: the check waits a cycle more, for a decoder
 *     whose error comes two cycles after the beat fired);
 *   - the decode phase stops at a format error the decoder found in the
 *     current beat (err_i with err_code_i, e.g. CSC 2 and 3), else at
 *     error 1 (truncated) when the beat waits for bits (wait_i) and the
 *     final word is already in the aligner (win_last_i).  A beat in error
 *     or waiting is never valid: err_i, wait_i and fire_i are never high
 *     together.
 * Errors are sticky until start_i; the first one is kept.
 *
 * GROUPED = 1 (the nm decoder): beats go group by group (for g, for t, for
 * j < m_g), the decoder owning the group walk: grp_lcol_i says the current
 * beat is its tile's last column of the group, so a fired beat advances
 * the tile only then, and the wrap after the last tile starts the next
 * group; first_o is group 0's column 0, eoc_o the group's last beat (last
 * tile, last column), last_o that of the last group (grp_last_i).  The
 * column counter is unused then.
 */
module ws_beat_sequencer #(
    // lanes per beat (rows per tile)
    parameter integer N     = 16,
    // largest supported number of rows O
    parameter integer MAX_O = 1280,
    // cycles after the last beat fired in which the decoder may still raise
    // err_i for it (1 or 2): the end-of-stream check waits for them
    parameter integer ERR_LAT = 1,
    // 1: beats go group by group, the group walk given by grp_*_i
    parameter integer GROUPED = 0
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
    // GROUPED: the current beat is column 0 of its group (registered state)
    input  wire                                 grp_col0_i,
    // GROUPED: the current beat is its tile's last column of the group
    input  wire                                 grp_lcol_i,
    // GROUPED: the current group is the layer's last
    input  wire                                 grp_last_i,

    // the current beat fires this cycle (advance to the next beat)
    input  wire                                 fire_i,
    // the current beat waits for bits not yet in the aligner window
    input  wire                                 wait_i,
    // the decoder found a format error in the current beat
    input  wire                                 err_i,
    // error code of err_i
    input  wire [3:0]                           err_code_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,

    // decode phase (from start until the last beat fired)
    output wire                                 running_o,
    // configured rows O
    output wire [$clog2(MAX_O+1)-1:0]           rows_o,
    // current beat: row tile index t
    output wire [((MAX_O+N-1)/N > 1 ? $clog2((MAX_O+N-1)/N) : 1)-1:0] tile_o,
    // current beat: first row of the tile, t*N
    output wire [$clog2(MAX_O+N+1)-1:0]         rbase_o,
    // current beat: rows from the tile on, O - t*N (> N unless the last tile)
    output wire [$clog2(MAX_O+1)-1:0]           rleft_o,
    // current beat: real lanes L (N, or O - t*N in the last tile)
    output wire [$clog2(N+1)-1:0]               lanes_o,
    // the beat after the current one: its real lanes (from registered state)
    output wire [$clog2(N+1)-1:0]               lanes_nx_o,
    // lanes_nx_o as it will be after this cycle's beat fires, from registered
    // state only (not this cycle's fire_i), for a decoder's registers derived
    // from it: they load it when the beat fires
    output wire [$clog2(N+1)-1:0]               lanes_nx_next_o,
    // current beat: first column (k == 0)
    output wire                                 first_o,
    // current beat: last tile of the column
    output wire                                 eoc_o,
    // current beat: last beat of the layer
    output wire                                 last_o,

    // status: layer decoded and stream end checked (sticky)
    output wire                                 done_o,
    // status: error (sticky)
    output wire                                 error_o,
    // status: error code (0 none, 1 truncated, err_code_i, 4 trailing, 5 configuration)
    output wire [3:0]                           error_code_o
);

localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;
localparam integer RW    = $clog2(MAX_O + 1);
localparam integer RBW   = $clog2(MAX_O + N + 1);
localparam integer LW    = $clog2(N + 1);
// rows left in the column from the current tile on: up to MAX_O
localparam integer XW    = RW > LW ? RW + 2 : LW + 2;

localparam [15:0]    MAX_O_C = MAX_O[15:0];
localparam [RBW-1:0] N_RB    = N[RBW-1:0];
localparam [LW-1:0]  N_L     = N[LW-1:0];
localparam [XW-1:0]  N_X     = N[XW-1:0];
localparam integer   N2      = 2 * N;
localparam [XW-1:0]  N2_X    = N2[XW-1:0];
localparam [15:0]    N2_16   = N2[15:0];
localparam integer   N3      = 3 * N;
localparam [XW-1:0]  N3_X    = N3[XW-1:0];
localparam [15:0]    N_16    = N[15:0];

localparam [1:0] ST_IDLE  = 2'd0;
localparam [1:0] ST_RUN   = 2'd1;
localparam [1:0] ST_CHECK = 2'd2;
localparam [1:0] ST_DONE  = 2'd3;

// parameter checks
generate
    if (N < 1 || MAX_O < 1 || MAX_O > 65535 || ERR_LAT < 1 || ERR_LAT > 2 ||
        GROUPED < 0 || GROUPED > 1) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_beat_sequencer: need N >= 1, 1 <= MAX_O <= 65535, ERR_LAT 1 or 2, GROUPED 0 or 1");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg [1:0]     st_q, st_d;
reg [RW-1:0]  rows_q, rows_d;
reg [31:0]    cleft_q, cleft_d;     // columns after the current one
reg [TW-1:0]  t_q, t_d;
reg [RBW-1:0] rbase_q, rbase_d;
reg [XW-1:0]  rleft_q, rleft_d;     // O - t*N: rows from the current tile on
// the geometry of the current beat, registered
reg           ltile_q, ltile_d;     // last tile of the column
reg [LW-1:0]  lanes_q, lanes_d;     // real lanes L
reg [LW-1:0]  lanes_nx_q, lanes_nx_d; // real lanes of the beat after it
reg           first_q, first_d;     // k == 0
reg           lcol_q, lcol_d;       // k == K - 1
// the geometry of a column's first tile, fixed per layer
reg           ltile0_q, ltile0_d;
reg [LW-1:0]  lanes0_q, lanes0_d;
reg [LW-1:0]  lanes1_q, lanes1_d;   // of the beat after a column's first tile
reg           err_q, err_d;
reg [3:0]     code_q, code_d;
reg           done_q, done_d;
reg           cwait_q, cwait_d;     // ERR_LAT = 2: the check's first cycle

wire [XW-1:0] rows_x  = {{(XW-RW){1'b0}}, rows_q};
wire [XW-1:0] rleft_n = rleft_q - N_X;   // rows from the next tile on
wire [XW-1:0] rleft_nn = rleft_q - N2_X; // rows from the tile after it on
// O - N in the second tile when N < O <= 2N: only its low LW bits, so no
// 16-bit subtraction lies on the configuration path
wire [LW-1:0] cfg_n   = cfg_rows_i[LW-1:0] - N_L;
// only the low LW bits of a row count are lanes (it is <= N then)
wire          unused_counts = ^{rleft_n[XW-1:LW], rleft_nn[XW-1:LW]};

assign running_o    = (st_q == ST_RUN);
assign rows_o       = rows_q;
assign tile_o       = t_q;
assign rbase_o      = rbase_q;
assign rleft_o      = rleft_q[RW-1:0];
assign lanes_o      = lanes_q;
assign lanes_nx_o   = lanes_nx_q;
// the beat after the next one: tile 1 of a column after a column's last
// tile, else the tile after the next (lanes0 when the next tile ends the
// column)
wire [LW-1:0] lanes_nx_fire = ltile_q          ? lanes1_q :
                              rleft_q <= N2_X  ? lanes0_q :
                              rleft_q <= N3_X  ? rleft_nn[LW-1:0] : N_L;
assign lanes_nx_next_o = lanes_nx_fire;
// the group walk's flags (all 1 but grp_last_i's when not GROUPED)
wire          g_col0  = GROUPED == 0 || grp_col0_i;
wire          g_lcol  = GROUPED == 0 || grp_lcol_i;
wire          g_last  = GROUPED == 0 ? lcol_q : grp_last_i;
assign first_o      = first_q && g_col0;
assign eoc_o        = ltile_q && g_lcol;
assign last_o       = ltile_q && g_lcol && g_last;

assign done_o       = done_q;
assign error_o      = err_q;
assign error_code_o = code_q;

always @* begin
    st_d     = st_q;
    rows_d   = rows_q;
    cleft_d  = cleft_q;
    t_d      = t_q;
    rbase_d  = rbase_q;
    rleft_d  = rleft_q;
    ltile_d  = ltile_q;
    lanes_d  = lanes_q;
    lanes_nx_d = lanes_nx_q;
    lanes1_d = lanes1_q;
    first_d  = first_q;
    lcol_d   = lcol_q;
    ltile0_d = ltile0_q;
    lanes0_d = lanes0_q;
    err_d    = err_q;
    code_d   = code_q;
    done_d   = done_q;
    cwait_d  = 1'b0;

    case (st_q)
        ST_RUN: begin
            if (err_i) begin
                st_d   = ST_IDLE;
                err_d  = 1'b1;
                code_d = err_code_i;
            end else if (wait_i && win_last_i) begin
                st_d   = ST_IDLE;
                err_d  = 1'b1;
                code_d = `WS_ERR_TRUNCATED;
            end else if (fire_i && g_lcol) begin
                if (ltile_q) begin
                    // next column, tile 0
                    t_d     = {TW{1'b0}};
                    rbase_d = {RBW{1'b0}};
                    rleft_d = rows_x;
                    ltile_d = ltile0_q;
                    lanes_d = lanes0_q;
                    lanes_nx_d = lanes_nx_fire;
                    first_d = 1'b0;
                    cleft_d = cleft_q - 32'd1;
                    lcol_d  = (cleft_q == 32'd1);
                    if (g_last) begin
                        st_d    = ST_CHECK;
                        cwait_d = ERR_LAT > 1;
                    end
                end else begin
                    t_d     = t_q + 1'b1;
                    rbase_d = rbase_q + N_RB;
                    rleft_d = rleft_n;
                    ltile_d = rleft_q <= N2_X;
                    lanes_d = lanes_nx_q;
                    lanes_nx_d = lanes_nx_fire;
                end
            end
        end
        ST_CHECK: begin
            if (err_i) begin
                // a format error in the last beat, found a cycle late
                st_d   = ST_IDLE;
                err_d  = 1'b1;
                code_d = err_code_i;
            end else if (cwait_q) begin
                // ERR_LAT = 2: a cycle more for the decoder's error
                st_d   = ST_CHECK;
            end else if (win_tail_ok_i) begin
                st_d   = ST_DONE;
                done_d = 1'b1;
            end else begin
                st_d   = ST_IDLE;
                err_d  = 1'b1;
                code_d = `WS_ERR_TRAILING_DATA;
            end
        end
        default: begin
            // idle or done: wait for start
        end
    endcase

    if (start_i) begin
        t_d      = {TW{1'b0}};
        rbase_d  = {RBW{1'b0}};
        done_d   = 1'b0;
        cleft_d  = cfg_cols_i - 32'd1;
        lcol_d   = (cfg_cols_i == 32'd1);
        first_d  = 1'b1;
        rows_d   = cfg_rows_i[RW-1:0];
        rleft_d  = {{(XW-RW){1'b0}}, cfg_rows_i[RW-1:0]};
        ltile0_d = cfg_rows_i <= N_16;
        lanes0_d = cfg_rows_i <= N_16 ? cfg_rows_i[LW-1:0] : N_L;
        lanes1_d = cfg_rows_i <= N_16 ? lanes0_d :
                   cfg_rows_i <= N2_16 ? cfg_n : N_L;
        ltile_d  = ltile0_d;
        lanes_d  = lanes0_d;
        lanes_nx_d = lanes1_d;
        if (cfg_rows_i == 16'd0 || cfg_rows_i > MAX_O_C || cfg_cols_i == 32'd0) begin
            st_d   = ST_IDLE;
            err_d  = 1'b1;
            code_d = `WS_ERR_BAD_CONFIG;
        end else begin
            st_d   = ST_RUN;
            err_d  = 1'b0;
            code_d = `WS_ERR_NONE;
        end
    end
end

always @(posedge clk) begin
    if (rst) begin
        st_q     <= ST_IDLE;
        rows_q   <= {RW{1'b0}};
        cleft_q  <= 32'd0;
        t_q      <= {TW{1'b0}};
        rbase_q  <= {RBW{1'b0}};
        rleft_q  <= {XW{1'b0}};
        ltile_q  <= 1'b0;
        lanes_q  <= {LW{1'b0}};
        lanes_nx_q <= {LW{1'b0}};
        lanes1_q <= {LW{1'b0}};
        first_q  <= 1'b0;
        lcol_q   <= 1'b0;
        ltile0_q <= 1'b0;
        lanes0_q <= {LW{1'b0}};
        err_q    <= 1'b0;
        code_q   <= `WS_ERR_NONE;
        done_q   <= 1'b0;
        cwait_q  <= 1'b0;
    end else begin
        st_q     <= st_d;
        rows_q   <= rows_d;
        cleft_q  <= cleft_d;
        t_q      <= t_d;
        rbase_q  <= rbase_d;
        rleft_q  <= rleft_d;
        ltile_q  <= ltile_d;
        lanes_q  <= lanes_d;
        lanes_nx_q <= lanes_nx_d;
        lanes1_q <= lanes1_d;
        first_q  <= first_d;
        lcol_q   <= lcol_d;
        ltile0_q <= ltile0_d;
        lanes0_q <= lanes0_d;
        err_q    <= err_d;
        code_q   <= code_d;
        done_q   <= done_d;
        cwait_q  <= cwait_d;
    end
end

endmodule

`resetall
`default_nettype wire
