// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream canonical decode unit: the length of one canonical Huffman
 * code (combinational)
 *
 * A canonical code of length l has the value v_l (its l bits read most
 * significant first) in [first(l), limit(l)), limit(l) = first(l) +
 * count(l), and first(l + 1) = 2 * limit(l) (docs/stream-formats.md,
 * bitmap-huffman).  Given the next H stream bits of a code (x_i[0] its
 * first bit), the per-length limits and which lengths the layer uses
 * (1..lmax), this unit finds its length: the least l with v_l < limit(l).
 * No lower compare is needed (a value below first(l) is a code of a
 * shorter length, found first), and limit(l) <= 2^l is compared at l + 1
 * bits.
 *
 * The hits form a thermometer (v_l < limit(l) implies v_{l+1} <= 2 v_l + 1
 * < 2 limit(l) = first(l + 1) <= limit(l + 1)), so the one-hot length is
 * hit & ~(hit << 1): one logic level, no priority chain.  found_o is low
 * when x_i begins no code of the layer (its lmax bits, and only an
 * incomplete code has such bits).
 *
 * Shared by ws_huffman_decoder (S units chained in its loop) and
 * ws_lane_unit (one per lane in ws_lane_huffman_decoder).
 */
module ws_canon_unit #(
    // longest code length
    parameter integer H     = 12,
    // bits of the packed limits: length l's l + 1 bits at (l-1)(l+2)/2
    parameter integer LIM_W = H * (H + 3) / 2,
    // 1: x_i comes most significant first (x_i[H-1] the first bit), as a
    // caller that stores its bits mirrored has them (no reversal here)
    parameter integer MSBF  = 0
) (
    // the next H bits of the stream, x_i[0] first (the code's top bit), or
    // x_i[H-1] first when MSBF = 1
    input  wire [H-1:0]     x_i,
    // limit(l) = first(l) + count(l) <= 2^l at l + 1 bits, packed (LIM_W)
    input  wire [LIM_W-1:0] lim_i,
    // bit l-1: the layer has lengths up to l (l <= lmax)
    input  wire [H-1:0]     len_en_i,
    // bit l-1: v_l < limit(l) and l <= lmax (a thermometer)
    output wire [H-1:0]     hit_o,
    // bit l-1: the code's length is l (one-hot, or zero when no code)
    output wire [H-1:0]     len_oh_o,
    // the bits begin a code of the layer
    output wire             found_o
);

// parameter checks
generate
    if (H < 1 || LIM_W != H * (H + 3) / 2 || MSBF < 0 || MSBF > 1) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_canon_unit: need H >= 1, LIM_W = H(H+3)/2 and MSBF 0 or 1");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

// the code's bits most significant first: x_r[H-1] is its first bit
wire [H-1:0] x_r;
wire [H-1:0] lt;                    // bit l-1: v_l < limit(l)
wire [H-1:0] hit;
// the hits one length up: bit l-1 is hit[l-2]
wire [H:0]   hit_up = {hit, 1'b0};

genvar gb;
genvar gl;
generate
    if (MSBF != 0) begin : g_msbf
        assign x_r = x_i;
    end else begin : g_lsbf
        for (gb = 0; gb < H; gb = gb + 1) begin : g_rev
            assign x_r[H-1-gb] = x_i[gb];
        end
    end
    for (gl = 1; gl <= H; gl = gl + 1) begin : g_len
        // length l's first l bits against its limit, at l + 1 bits
        wire [gl-1:0] v_l   = x_r[H-1 -: gl];
        wire [gl:0]   lim_l = lim_i[(gl-1)*(gl+2)/2 +: gl+1];
        assign lt[gl-1] = {1'b0, v_l} < lim_l;
    end
endgenerate

// the lengths the layer uses, one AND over the vector
assign hit = len_en_i & lt;

assign hit_o    = hit;
assign len_oh_o = hit & ~hit_up[H-1:0];
assign found_o  = |hit;

// the top hit is never below another one
wire unused_top = hit_up[H];

endmodule

`resetall
`default_nettype wire
