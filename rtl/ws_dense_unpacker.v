// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream dense unpacker
 *
 * Decodes the "dense" format: every weight of the layer in stream order
 * (column by column, row tile by row tile), Q bits each, LSB-first.  A beat
 * of a tile with L real lanes (L = N except in the last tile of a column,
 * L = O - t*N there) takes L*Q bits from the aligner window; lanes >= L are
 * zero.  One beat per cycle when the window holds enough bits.
 *
 * Beat side band: tile index t, first column (k == 0), end of column (last
 * tile), last beat of the layer.
 *
 * Errors (sticky until start_i; code on error_code_o):
 *   1 truncated: the final word is in the aligner and the window cannot
 *     hold the next beat
 *   4 trailing data: after the last beat the buffer holds more than the
 *     zero padding of the final word, or the final word is not in the aligner
 *   5 bad configuration: O == 0, O > MAX_O or K == 0
 */
module ws_dense_unpacker #(
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
    input  wire [N*Q-1:0]                       win_data_i,
    // aligner window: number of buffered bits
    input  wire [$clog2(N*Q+3*B+1)-1:0]         win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: bits consumed this cycle
    output wire [$clog2(N*Q+1)-1:0]             win_consume_o,
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

localparam integer WIN   = N*Q;
localparam integer CNT_W = $clog2(WIN + 3*B + 1);
localparam integer CW    = $clog2(WIN + 1);
localparam integer T     = (MAX_O + N - 1) / N;
localparam integer TW    = T > 1 ? $clog2(T) : 1;
localparam integer RW    = $clog2(MAX_O + 1);
localparam integer RBW   = $clog2(MAX_O + N + 1);
localparam integer LW    = $clog2(N + 1);

localparam [15:0]    MAX_O_C = MAX_O[15:0];
localparam [RBW-1:0] N_RB    = N[RBW-1:0];
localparam [LW-1:0]  N_L     = N[LW-1:0];
localparam [CW-1:0]  Q_C     = Q[CW-1:0];

localparam [1:0] ST_IDLE  = 2'd0;
localparam [1:0] ST_RUN   = 2'd1;
localparam [1:0] ST_CHECK = 2'd2;
localparam [1:0] ST_DONE  = 2'd3;

// parameter checks
generate
    if (N < 1 || Q < 1 || B < 1 || MAX_O < 1 || MAX_O > 65535) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_dense_unpacker: need N, Q, B >= 1 and 1 <= MAX_O <= 65535");
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
wire [LW-1:0]  lanes     = last_tile ? rem_rows[LW-1:0] : N_L;
wire           last_col  = (k_q == cols_q - 32'd1);
// only the low bits of rem_rows are needed (it is <= N in the last tile)
wire           unused_rem_rows = ^rem_rows;

// bits needed for this beat
wire [CW-1:0]    need    = {{(CW-LW){1'b0}}, lanes} * Q_C;
wire             enough  = win_count_i >= {{(CNT_W-CW){1'b0}}, need};
wire             running = (st_q == ST_RUN);
wire             fire    = m_beat_valid_o && m_beat_ready_i;

// lane data
genvar l;
generate
    for (l = 0; l < N; l = l + 1) begin : g_lane
        localparam [LW-1:0] L_IDX = l;
        assign m_beat_data_o[l*Q +: Q] = (L_IDX < lanes) ? win_data_i[l*Q +: Q] : {Q{1'b0}};
    end
endgenerate

assign m_beat_valid_o = running && enough;
assign m_beat_tile_o  = t_q;
assign m_beat_first_o = (k_q == 32'd0);
assign m_beat_eoc_o   = last_tile;
assign m_beat_last_o  = last_tile && last_col;
assign win_consume_o  = fire ? need : {CW{1'b0}};
assign win_en_o       = running;

assign busy_o       = running;
assign done_o       = done_q;
assign error_o      = err_q;
assign error_code_o = code_q;
assign starve_o     = running && !enough;

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
            if (fire) begin
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
            end else if (!enough && win_last_i) begin
                st_d   = ST_IDLE;
                err_d  = 1'b1;
                code_d = 4'd1;
            end
        end
        ST_CHECK: begin
            if (win_tail_ok_i) begin
                st_d   = ST_DONE;
                done_d = 1'b1;
            end else begin
                st_d   = ST_IDLE;
                err_d  = 1'b1;
                code_d = 4'd4;
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
            code_d = 4'd5;
        end else begin
            st_d   = ST_RUN;
            err_d  = 1'b0;
            code_d = 4'd0;
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
        code_q  <= 4'd0;
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
