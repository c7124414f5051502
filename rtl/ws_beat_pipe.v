// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream beat pipeline, shared by every decoder
 *
 * Takes a decoder's extraction out of its one-cycle loop.  The loop (the
 * beat's length back to the aligner) only decides that a beat fires and
 * captures what the beat needs (the window bits and a few flags: the raw
 * record, RAW_W bits) into stage 1.  The decoder computes the beat from
 * the stage-1 register (ext_i, combinational in the decoder: lane scatter,
 * CSC row placement) and this module registers it in stage 2, the beat
 * output.
 *
 *   s_fire_i: raw_i -> [stage 1: raw_o] -> decoder's extraction -> ext_i
 *             -> [stage 2: m_data_o, m_valid_o] -> m_ready_i
 *
 * Flow control: stage 1 loads when the loop fires (s_fire_i, which the
 * decoder raises only while s_ready_o is high); stage 2 loads when stage 1
 * holds a beat and stage 2 is empty or being taken.  s_ready_o = stage 1
 * empty or moving on: two gates from m_ready_i and the stage valids.  A
 * beat per cycle passes while m_ready_i stays high.
 *
 * flush_i (start of a layer, error) drops both stages.
 */
module ws_beat_pipe #(
    // bits of the raw record captured by the loop
    parameter integer RAW_W = 8,
    // bits of the extracted beat record
    parameter integer OUT_W = 8
) (
    // clock
    input  wire             clk,
    // synchronous active-high reset
    input  wire             rst,
    // drop the beats held (start of a layer, decode error)
    input  wire             flush_i,

    // loop side: the raw record of the firing beat
    input  wire [RAW_W-1:0] s_raw_i,
    // loop side: the beat fires (only while s_ready_o)
    input  wire             s_fire_i,
    // loop side: stage 1 can take a beat this cycle
    output wire             s_ready_o,

    // extraction: the stage-1 record
    output wire [RAW_W-1:0] raw_o,
    // extraction: the beat computed from raw_o
    input  wire [OUT_W-1:0] ext_i,

    // beat output: the stage-2 record
    output wire [OUT_W-1:0] m_data_o,
    // beat output: valid
    output wire             m_valid_o,
    // beat output: ready
    input  wire             m_ready_i,

    // a beat is held in a stage
    output wire             busy_o
);

reg [RAW_W-1:0] raw_q;
reg             v1_q, v1_d;
reg [OUT_W-1:0] out_q;
reg             v2_q, v2_d;

wire adv2 = !v2_q || m_ready_i;   // stage 2 empty or its beat taken
wire adv1 = v1_q && adv2;         // stage 1 moves to stage 2

assign s_ready_o = !v1_q || adv2;
assign raw_o     = raw_q;
assign m_data_o  = out_q;
assign m_valid_o = v2_q;
assign busy_o    = v1_q || v2_q;

always @* begin
    v1_d = v1_q;
    v2_d = v2_q;
    if (adv2) begin
        v2_d = v1_q;
    end
    if (s_fire_i) begin
        v1_d = 1'b1;
    end else if (adv1) begin
        v1_d = 1'b0;
    end
    if (flush_i) begin
        v1_d = 1'b0;
        v2_d = 1'b0;
    end
end

always @(posedge clk) begin
    if (rst) begin
        v1_q <= 1'b0;
        v2_q <= 1'b0;
    end else begin
        v1_q <= v1_d;
        v2_q <= v2_d;
    end
end

// data registers without reset: only read while their valid is set.  Stage
// 1 loads whenever it is free, so the loop's fire only sets its valid (a
// fire fanning out to every raw bit would lengthen the loop)
always @(posedge clk) begin
    if (s_ready_o) begin
        raw_q <= s_raw_i;
    end
    if (adv1) begin
        out_q <= ext_i;
    end
end

endmodule

`resetall
`default_nettype wire
