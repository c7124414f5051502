// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream delta stage: the running sum along k of the delta formats
 *
 * Takes D beats, D[o][k] = (W[o][k] - W[o][k-1]) mod 2^Q (W[o][-1] = 0),
 * from a decoder and gives the W beats:
 *   W[o][k] = (W[o][k-1] + D[o][k]) mod 2^Q
 * The per-row state is a memory of T = ceil(MAX_O/N) entries of N*Q bits
 * indexed by the tile t of the beat, with one synchronous read port and one
 * write port (block RAM): one pipeline stage.  Entry t is read as the D
 * beat moves into the stage (taken as zero when k == 0, so no clearing pass
 * is needed) and written with the beat's weights when it leaves; when the
 * beat leaving writes the tile the next beat reads (O <= N: every beat),
 * the written weights are forwarded.  Lanes past O stay 0 (D is 0 there).
 *
 * Shared by ws_delta_bitmap_decoder and ws_huffman_decoder (DELTA = 1).
 */
module ws_delta_stage #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // largest supported number of rows O
    parameter integer MAX_O = 1280,
    // tile index bits
    parameter integer TW    = (MAX_O + N - 1) / N > 1 ? $clog2((MAX_O + N - 1) / N) : 1
) (
    // clock
    input  wire             clk,
    // synchronous active-high reset
    input  wire             rst,
    // drop the beat held (start of a layer, decode error)
    input  wire             flush_i,
    // hold the output (a decode error is flagged)
    input  wire             hold_i,

    // D beats: N lanes of Q bits
    input  wire [N*Q-1:0]   s_data_i,
    // D beats: row tile index t
    input  wire [TW-1:0]    s_tile_i,
    // D beats: first column (k == 0)
    input  wire             s_first_i,
    // D beats: last tile of the column
    input  wire             s_eoc_i,
    // D beats: last beat of the layer
    input  wire             s_last_i,
    // D beats: valid
    input  wire             s_valid_i,
    // D beats: ready
    output wire             s_ready_o,

    // W beats: N lanes of Q bits
    output wire [N*Q-1:0]   m_data_o,
    // W beats: row tile index t
    output wire [TW-1:0]    m_tile_o,
    // W beats: first column (k == 0)
    output wire             m_first_o,
    // W beats: last tile of the column
    output wire             m_eoc_o,
    // W beats: last beat of the layer
    output wire             m_last_o,
    // W beats: valid
    output wire             m_valid_o,
    // W beats: ready
    input  wire             m_ready_i,

    // a beat is held in the stage
    output wire             busy_o
);

localparam integer T = (MAX_O + N - 1) / N;

// per-row running weights, one entry per row tile (no reset: column 0
// writes every used entry before it is read)
reg  [N*Q-1:0] prev_mem [0:T-1];
reg  [N*Q-1:0] rd_q;            // entry of the beat in the stage, as read
reg            fwd_q;           // ... unless forwarded: fwd_data_q instead
reg  [N*Q-1:0] fwd_data_q;
reg            v_q, v_d;
reg  [N*Q-1:0] d_q;
reg  [TW-1:0]  tile_q;
reg            first_q;
reg            eoc_q;
reg            last_q;

wire           adv   = !v_q || m_ready_i;   // stage empty or taken
wire           ld    = s_valid_i && adv;
wire           leave = m_valid_o && m_ready_i;
wire [N*Q-1:0] prev  = fwd_q ? fwd_data_q : rd_q;
wire [N*Q-1:0] w_data;

assign s_ready_o = adv;

genvar l;
generate
    for (l = 0; l < N; l = l + 1) begin : g_lane
        wire [Q-1:0] base = first_q ? {Q{1'b0}} : prev[l*Q +: Q];
        assign w_data[l*Q +: Q] = base + d_q[l*Q +: Q];
    end
endgenerate

always @* begin
    v_d = v_q;
    if (adv) begin
        v_d = s_valid_i;
    end
    if (flush_i) begin
        v_d = 1'b0;
    end
end

always @(posedge clk) begin
    if (rst) begin
        v_q <= 1'b0;
    end else begin
        v_q <= v_d;
    end
end

// stage data and the memory, no reset: entry t is only used after column
// 0 wrote it, stage data only while v_q
always @(posedge clk) begin
    if (leave) begin
        prev_mem[tile_q] <= w_data;
    end
    if (ld) begin
        rd_q       <= prev_mem[s_tile_i];
        fwd_q      <= leave && (tile_q == s_tile_i);
        fwd_data_q <= w_data;
        d_q        <= s_data_i;
        tile_q     <= s_tile_i;
        first_q    <= s_first_i;
        eoc_q      <= s_eoc_i;
        last_q     <= s_last_i;
    end
end

assign m_data_o  = w_data;
assign m_tile_o  = tile_q;
assign m_first_o = first_q;
assign m_eoc_o   = eoc_q;
assign m_last_o  = last_q;
// a beat never leaves once an error is flagged (the stage is flushed next)
assign m_valid_o = v_q && !hold_i;
assign busy_o    = v_q;

endmodule

`resetall
`default_nettype wire
