// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream beat queue: the output side of the Huffman decoders
 *
 * Their loop completes a beat (fire_i) some cycles before the beat is
 * assembled (push_i: its values read from the symbol table); the beat
 * waits here in a QD-beat queue until the sink takes it.  A registered
 * count of the beats fired and not yet out of the queue gives the loop its
 * credit (credit_o: fewer than QD), so no ready path reaches the loop and
 * the queue never overflows (a beat is pushed at most once per fire).
 * DELTA = 1 adds the running sum along k (ws_delta_stage) after the queue.
 *
 * flush_i (start of a layer, an error) drops every beat held; hold_i (an
 * error is flagged) keeps any from leaving.
 *
 * Shared by ws_huffman_decoder and ws_lane_huffman_decoder.
 */
module ws_beat_queue #(
    // lanes per beat
    parameter integer N     = 16,
    // weight bits
    parameter integer Q     = 8,
    // largest supported number of rows O
    parameter integer MAX_O = 1280,
    // beats fired and not yet out at most (the queue's depth, a power of two)
    parameter integer QD    = 4,
    // 1: the beats hold the delta along k (the running sum follows)
    parameter integer DELTA = 0,
    // tile index bits
    parameter integer TW    = (MAX_O + N - 1) / N > 1 ? $clog2((MAX_O + N - 1) / N) : 1
) (
    // clock
    input  wire             clk,
    // synchronous active-high reset
    input  wire             rst,
    // drop the beats held (start of a layer, decode error)
    input  wire             flush_i,
    // keep every beat held (a decode error is flagged)
    input  wire             hold_i,

    // the loop completed a beat (it will be pushed later)
    input  wire             fire_i,
    // the loop may complete a beat: fewer than QD fired and not out
    output wire             credit_o,

    // push: an assembled beat (one per fire, in order)
    input  wire             push_i,
    // push: N lanes of Q bits
    input  wire [N*Q-1:0]   s_data_i,
    // push: row tile index t
    input  wire [TW-1:0]    s_tile_i,
    // push: first column (k == 0)
    input  wire             s_first_i,
    // push: last tile of the column
    input  wire             s_eoc_i,
    // push: last beat of the layer
    input  wire             s_last_i,

    // beat output: N lanes of Q bits
    output wire [N*Q-1:0]   m_data_o,
    // beat output: row tile index t
    output wire [TW-1:0]    m_tile_o,
    // beat output: first column (k == 0)
    output wire             m_first_o,
    // beat output: last tile of the column
    output wire             m_eoc_o,
    // beat output: last beat of the layer
    output wire             m_last_o,
    // beat output: valid
    output wire             m_valid_o,
    // beat output: ready
    input  wire             m_ready_i,

    // a beat is held (queue or delta stage)
    output wire             busy_o
);

localparam integer QDW   = $clog2(QD + 1);
localparam integer PW    = QD > 1 ? $clog2(QD) : 1;
// the record: lanes, tile, first, eoc, last
localparam integer OUT_W = N*Q + TW + 3;
localparam [QDW-1:0] QD_Q = QD[QDW-1:0];

// parameter checks
generate
    if (N < 1 || Q < 1 || QD < 2 || (QD & (QD - 1)) != 0) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_beat_queue: need N, Q >= 1 and QD a power of two >= 2");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg  [OUT_W-1:0] oq [0:QD-1];
reg  [PW-1:0]    oq_wr_q;
reg  [PW-1:0]    oq_rd_q;
reg  [QDW-1:0]   oq_n_q;
reg  [QDW-1:0]   outst_q;           // beats fired, not yet out of the queue
wire             oq_valid = oq_n_q != {QDW{1'b0}};
wire             oq_pop;
wire [OUT_W-1:0] oq_head  = oq[oq_rd_q];

assign credit_o = outst_q < QD_Q;

always @(posedge clk) begin
    if (rst || flush_i) begin
        oq_wr_q <= {PW{1'b0}};
        oq_rd_q <= {PW{1'b0}};
        oq_n_q  <= {QDW{1'b0}};
        outst_q <= {QDW{1'b0}};
    end else begin
        oq_wr_q <= oq_wr_q + {{(PW-1){1'b0}}, push_i};
        oq_rd_q <= oq_rd_q + {{(PW-1){1'b0}}, oq_pop};
        oq_n_q  <= oq_n_q + {{(QDW-1){1'b0}}, push_i} - {{(QDW-1){1'b0}}, oq_pop};
        outst_q <= outst_q + {{(QDW-1){1'b0}}, fire_i} - {{(QDW-1){1'b0}}, oq_pop};
    end
end

always @(posedge clk) begin
    if (push_i) begin
        oq[oq_wr_q] <= {s_data_i, s_tile_i, s_first_i, s_eoc_i, s_last_i};
    end
end

generate
    if (DELTA != 0) begin : g_delta
        wire d_ready;
        wire d_busy;
        assign oq_pop = oq_valid && d_ready && !hold_i;
        ws_delta_stage #(
            .N(N),
            .Q(Q),
            .MAX_O(MAX_O),
            .TW(TW)
        ) u_delta (
            .clk(clk),
            .rst(rst),
            .flush_i(flush_i),
            .hold_i(hold_i),
            .s_data_i(oq_head[OUT_W-1 -: N*Q]),
            .s_tile_i(oq_head[3 +: TW]),
            .s_first_i(oq_head[2]),
            .s_eoc_i(oq_head[1]),
            .s_last_i(oq_head[0]),
            .s_valid_i(oq_valid && !hold_i),
            .s_ready_o(d_ready),
            .m_data_o(m_data_o),
            .m_tile_o(m_tile_o),
            .m_first_o(m_first_o),
            .m_eoc_o(m_eoc_o),
            .m_last_o(m_last_o),
            .m_valid_o(m_valid_o),
            .m_ready_i(m_ready_i),
            .busy_o(d_busy)
        );
        assign busy_o = oq_valid || d_busy;
    end else begin : g_plain
        assign oq_pop    = oq_valid && m_ready_i && !hold_i;
        assign m_data_o  = oq_head[OUT_W-1 -: N*Q];
        assign m_tile_o  = oq_head[3 +: TW];
        assign m_first_o = oq_head[2];
        assign m_eoc_o   = oq_head[1];
        assign m_last_o  = oq_head[0];
        // a beat never leaves once an error is flagged (the queue is flushed next)
        assign m_valid_o = oq_valid && !hold_i;
        assign busy_o    = oq_valid;
    end
endgenerate

endmodule

`resetall
`default_nettype wire
