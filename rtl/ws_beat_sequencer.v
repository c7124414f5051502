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
 *   - the tile geometry of the current beat: tile t, its first row
 *     rbase = t*N, last tile of the column (t*N + N >= O), real lanes
 *     L = N, or O - t*N in the last tile, first column (k == 0), last beat
 *     of the layer (last tile of column K-1);
 *   - each fired beat (fire_i) advances t, or k at the end of a column;
 *     after the last beat the end of the stream is checked in the next
 *     cycle: win_tail_ok_i (only zero padding of the final word left) sets
 *     done_o, else error 4 (trailing data);
 *   - the decode phase stops at a format error the decoder found in the
 *     current beat (err_i with err_code_i, e.g. CSC 2 and 3), else at
 *     error 1 (truncated) when the beat waits for bits (wait_i) and the
 *     final word is already in the aligner (win_last_i).  A beat in error
 *     or waiting is never valid: err_i, wait_i and fire_i are never high
 *     together.
 * Errors are sticky until start_i; the first one is kept.
 */
module ws_beat_sequencer #(
    // lanes per beat (rows per tile)
    parameter integer N     = 16,
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
    // current beat: real lanes L (N, or O - t*N in the last tile)
    output wire [$clog2(N+1)-1:0]               lanes_o,
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

localparam [15:0]    MAX_O_C = MAX_O[15:0];
localparam [RBW-1:0] N_RB    = N[RBW-1:0];
localparam [LW-1:0]  N_L     = N[LW-1:0];

localparam [1:0] ST_IDLE  = 2'd0;
localparam [1:0] ST_RUN   = 2'd1;
localparam [1:0] ST_CHECK = 2'd2;
localparam [1:0] ST_DONE  = 2'd3;

// parameter checks
generate
    if (N < 1 || MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_beat_sequencer: need N >= 1 and 1 <= MAX_O <= 65535");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg [1:0]     st_q, st_d;
reg [RW-1:0]  rows_q, rows_d;
reg [31:0]    cols_q, cols_d;
reg [31:0]    k_q, k_d;
reg [TW-1:0]  t_q, t_d;
reg [RBW-1:0] rbase_q, rbase_d;
reg           err_q, err_d;
reg [3:0]     code_q, code_d;
reg           done_q, done_d;

// tile geometry
wire [RBW-1:0] rows_rb   = {{(RBW-RW){1'b0}}, rows_q};
wire           last_tile = (rbase_q + N_RB) >= rows_rb;
wire [RBW-1:0] rem_rows  = rows_rb - rbase_q;
wire           last_col  = (k_q == cols_q - 32'd1);
// only the low bits of rem_rows are needed (it is <= N in the last tile)
wire           unused_rem_rows = ^rem_rows;

assign running_o    = (st_q == ST_RUN);
assign rows_o       = rows_q;
assign tile_o       = t_q;
assign rbase_o      = rbase_q;
assign lanes_o      = last_tile ? rem_rows[LW-1:0] : N_L;
assign first_o      = (k_q == 32'd0);
assign eoc_o        = last_tile;
assign last_o       = last_tile && last_col;

assign done_o       = done_q;
assign error_o      = err_q;
assign error_code_o = code_q;

always @* begin
    st_d    = st_q;
    rows_d  = rows_q;
    cols_d  = cols_q;
    k_d     = k_q;
    t_d     = t_q;
    rbase_d = rbase_q;
    err_d   = err_q;
    code_d  = code_q;
    done_d  = done_q;

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
            end else if (fire_i) begin
                if (last_tile) begin
                    t_d     = {TW{1'b0}};
                    rbase_d = {RBW{1'b0}};
                    k_d     = k_q + 32'd1;
                    if (last_col) begin
                        st_d = ST_CHECK;
                    end
                end else begin
                    t_d     = t_q + 1'b1;
                    rbase_d = rbase_q + N_RB;
                end
            end
        end
        ST_CHECK: begin
            if (win_tail_ok_i) begin
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
        k_d     = 32'd0;
        t_d     = {TW{1'b0}};
        rbase_d = {RBW{1'b0}};
        done_d  = 1'b0;
        cols_d  = cfg_cols_i;
        rows_d  = cfg_rows_i[RW-1:0];
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
        st_q    <= ST_IDLE;
        rows_q  <= {RW{1'b0}};
        cols_q  <= 32'd0;
        k_q     <= 32'd0;
        t_q     <= {TW{1'b0}};
        rbase_q <= {RBW{1'b0}};
        err_q   <= 1'b0;
        code_q  <= `WS_ERR_NONE;
        done_q  <= 1'b0;
    end else begin
        st_q    <= st_d;
        rows_q  <= rows_d;
        cols_q  <= cols_d;
        k_q     <= k_d;
        t_q     <= t_d;
        rbase_q <= rbase_d;
        err_q   <= err_d;
        code_q  <= code_d;
        done_q  <= done_d;
    end
end

endmodule

`resetall
`default_nettype wire
