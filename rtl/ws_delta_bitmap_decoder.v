// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream delta+bitmap decoder
 *
 * The stream holds D[o][k] = (W[o][k] - W[o][k-1]) mod 2^Q (W[o][-1] = 0)
 * coded exactly as the bitmap format.  A ws_bitmap_decoder decodes the D
 * beats; this module adds the previous weight of every row:
 *   W[o][k] = (W[o][k-1] + D[o][k]) mod 2^Q,  W[o][-1] = 0
 * The per-row state is a register array of T = ceil(MAX_O/N) entries of
 * N*Q bits indexed by the tile t of the beat; entry t is read in the beat's
 * cycle (taken as zero when k == 0, so no clearing pass is needed) and
 * written with the beat's weights when it fires.  Lanes past O decode to 0.
 *
 * Errors and status are those of the bitmap decoder (1 truncated,
 * 4 trailing data, 5 bad configuration).
 */
module ws_delta_bitmap_decoder #(
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
    // aligner window: number of buffered bits
    input  wire [$clog2(N*Q+N+3*B+1)-1:0]       win_count_i,
    // aligner window: final word taken into the aligner
    input  wire                                 win_last_i,
    // aligner window: final word in the aligner, FIFO empty, only zero padding left
    input  wire                                 win_tail_ok_i,
    // aligner window: bits consumed this cycle
    output wire [$clog2(N*Q+N+1)-1:0]           win_consume_o,
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

localparam integer T  = (MAX_O + N - 1) / N;
localparam integer TW = T > 1 ? $clog2(T) : 1;

// D beats from the bitmap decoder
wire [N*Q-1:0] d_data;
wire [TW-1:0]  d_tile;
wire           d_first;

ws_bitmap_decoder #(
    .N(N),
    .Q(Q),
    .B(B),
    .MAX_O(MAX_O)
) u_bitmap (
    .clk(clk),
    .rst(rst),
    .start_i(start_i),
    .cfg_rows_i(cfg_rows_i),
    .cfg_cols_i(cfg_cols_i),
    .win_data_i(win_data_i),
    .win_count_i(win_count_i),
    .win_last_i(win_last_i),
    .win_tail_ok_i(win_tail_ok_i),
    .win_consume_o(win_consume_o),
    .win_en_o(win_en_o),
    .m_beat_data_o(d_data),
    .m_beat_tile_o(d_tile),
    .m_beat_first_o(d_first),
    .m_beat_eoc_o(m_beat_eoc_o),
    .m_beat_last_o(m_beat_last_o),
    .m_beat_valid_o(m_beat_valid_o),
    .m_beat_ready_i(m_beat_ready_i),
    .busy_o(busy_o),
    .done_o(done_o),
    .error_o(error_o),
    .error_code_o(error_code_o),
    .starve_o(starve_o)
);

// per-row running weights, one entry per row tile (no reset: column 0
// writes every used entry before it is read)
reg  [N*Q-1:0] prev_q [0:T-1];
wire [N*Q-1:0] prev_rd = prev_q[d_tile];
wire [N*Q-1:0] w_data;
wire           fire    = m_beat_valid_o && m_beat_ready_i;

genvar l;
generate
    for (l = 0; l < N; l = l + 1) begin : g_lane
        wire [Q-1:0] base = d_first ? {Q{1'b0}} : prev_rd[l*Q +: Q];
        assign w_data[l*Q +: Q] = base + d_data[l*Q +: Q];
    end
endgenerate

assign m_beat_data_o  = w_data;
assign m_beat_tile_o  = d_tile;
assign m_beat_first_o = d_first;

always @(posedge clk) begin
    if (fire) begin
        prev_q[d_tile] <= w_data;
    end
end

endmodule

`resetall
`default_nettype wire
