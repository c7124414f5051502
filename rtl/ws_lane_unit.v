// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream lane unit: one lane of the lane-huffman decoder
 *
 * Holds the lane's sub-stream bits taken and not yet decoded (count c,
 * docs/stream-formats.md, lane-huffman) and resolves one canonical code
 * per cycle from them (ws_canon_unit).
 *
 * The bits are kept in a ring of NS chunk slots of C bits: a chunk taken
 * from the aligner window is written whole into slot wp (a clock enable,
 * no shift, no multiplexer but for a second chunk of the same cycle), and
 * the next bit is bit rp of slot rs.  A slot holds its chunk mirrored (the
 * chunk's first bit at the top: wiring only), so that the code's bits come
 * out most significant first, as the limit compares read them, with no
 * per-bit reversal after the shift (a simulator evaluates that reversal
 * bit by bit, once for every compare).  A code is read from slots rs and
 * rs + 1 (a 3:1 slot select, then a shift by the registered rp), and
 * decoding it adds its length to rp (mod C), moving rs on when rp passes
 * the slot's end.  The loop of the unit is: registered pointers -> the
 * code's H bits -> H limit compares -> one-hot length -> pointer add.
 *
 * The count is kept relative to the refill threshold, d = c - T (T = 2 *
 * lmax; while the lane is empty d follows -T), so the decoder's flags are
 * a sign bit: rf_o (c < T: the lane takes a chunk when its mask bit is
 * set), rf2_o (c + C < T: a second one, only at its first code, c = 0,
 * when T > C), first_o (c == 0: it cannot decode before its chunks are
 * in).
 *
 * zero_o: the lane's untaken bits are all zero (the fill check after the
 * last beat).
 */
module ws_lane_unit #(
    // longest code length
    parameter integer H     = 12,
    // chunk bits (C >= H)
    parameter integer C     = 12,
    // packed limit bits (ws_canon_unit)
    parameter integer LIM_W = H * (H + 3) / 2
) (
    // clock
    input  wire                 clk,
    // synchronous active-high reset
    input  wire                 rst,
    // start of a layer: the lane holds nothing
    input  wire                 clear_i,

    // the layer's limits, packed as ws_canon_unit takes them
    input  wire [LIM_W-1:0]     lim_i,
    // bit l-1: l <= lmax
    input  wire [H-1:0]         len_en_i,
    // T = 2 * lmax, the refill threshold
    input  wire [5:0]           thr_i,
    // T > C: a lane takes two chunks at its first code
    input  wire                 two_i,

    // take the chunk chunk_i this cycle
    input  wire                 tk1_i,
    // take a second chunk chunk2_i (only with tk1_i, at the first code)
    input  wire                 tk2_i,
    // the chunk at the lane's offset in the aligner window
    input  wire [C-1:0]         chunk_i,
    // the chunk after it (for tk2_i)
    input  wire [C-1:0]         chunk2_i,
    // decode a code this cycle (the lane holds at least lmax bits)
    input  wire                 dec_i,

    // the next H bits of the lane's sub-stream, bit 0 first
    output wire [H-1:0]         front_o,
    // the same bits most significant first: code_o[H-1] is front_o[0]
    output wire [H-1:0]         code_o,
    // the length of the code they begin, binary (0: no code)
    output wire [$clog2(H+1)-1:0] len_o,
    // they begin a code of the layer
    output wire                 found_o,
    // c < T
    output wire                 rf_o,
    // c + C < T
    output wire                 rf2_o,
    // c == 0 (the lane's first code is next)
    output wire                 first_o,
    // the bits held are all zero
    output wire                 zero_o
);

// slots: the most bits held is T - 1 + C <= 2H - 1 + C, at a pointer < C
localparam integer CMAX = 2*H - 1 + C;
localparam integer NS   = (CMAX + C - 1) / C;
localparam integer SW   = $clog2(NS);
// d = c - T: -2H .. CMAX, signed
localparam integer DW   = 7;
localparam integer HW   = $clog2(H + 1);
localparam integer RPW  = C > 1 ? $clog2(C) : 1;
// pointer + length: up to C - 1 + H
localparam integer SUMW = $clog2(C + H);
localparam [SUMW-1:0] C_S  = C[SUMW-1:0];
localparam [DW-1:0]   C_D  = C[DW-1:0];
localparam integer   NS1  = NS - 1;
localparam [SW-1:0]   LAST = NS1[SW-1:0];

// parameter checks
generate
    if (H < 1 || C < H || NS != 3 || CMAX + C > 63) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_lane_unit: need 1 <= H <= C, 3 slots (2H - 1 + C in (2C, 3C]) and 2H + 2C <= 64");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

wire [NS*C-1:0] s_q;                // slots, slot i in [i*C +: C], mirrored
reg  [SW-1:0]   wp_q;               // the slot the next chunk goes to
reg  [SW-1:0]   rs_q;               // the slot of the next bit
reg  [RPW-1:0]  rp_q;               // the next bit in slot rs (< C)
reg  [NS-1:0]   sv_q;               // slot i holds untaken bits
reg  [DW-1:0]   d_q;                // c - T
reg             fc_q;               // c == 0

// one-hot length -> binary: bit b of the length is the OR of the one-hot
// bits of the lengths with bit b set (a constant mask per bit)
function [H-1:0] len_mask;
    input integer b;
    integer l;
    begin
        len_mask = {H{1'b0}};
        for (l = 1; l <= H; l = l + 1) begin
            if (((l >> b) & 1) != 0) begin
                len_mask[l-1] = 1'b1;
            end
        end
    end
endfunction

// slot selects, one-hot: the read slot, the write slot and the one after
wire [SW-1:0]   wp_1  = wp_q == LAST ? {SW{1'b0}} : wp_q + 1'b1;
wire [SW-1:0]   wp_2  = wp_1 == LAST ? {SW{1'b0}} : wp_1 + 1'b1;
wire [NS-1:0]   rs_oh;
wire [NS-1:0]   wp_oh;
wire [NS-1:0]   wp1_oh;
// slot i holds a nonzero bit
wire [NS-1:0]   s_nz;

// ---- the code at the pointers ----------------------------------------------
// slots rs and rs + 1 (mod NS = 3), mirrored: slot rs's first bit at the
// top; a select expression (no data-dependent branch in a simulator)
wire [2*C-1:0]  x2 = rs_q == 2'd2 ? {s_q[2*C +: C], s_q[0 +: C]} :
                     rs_q == 2'd1 ? {s_q[C +: C], s_q[2*C +: C]} :
                                    {s_q[0 +: C], s_q[C +: C]};
// the next bit at the top: the code's H bits most significant first
wire [2*C-1:0]  x_sh  = x2 << rp_q;
wire [H-1:0]    code  = x_sh[2*C-1 -: H];

wire [H-1:0]    hit;
wire [H-1:0]    len_oh;
wire            found;

ws_canon_unit #(
    .H(H),
    .LIM_W(LIM_W),
    .MSBF(1)
) u_canon (
    .x_i(code),
    .lim_i(lim_i),
    .len_en_i(len_en_i),
    .hit_o(hit),
    .len_oh_o(len_oh),
    .found_o(found)
);

// hits past lmax are not used (the length is the least hit)
wire            unused_hit = ^hit;

// ---- the pointers after the code: plus the length, mod C --------------------
wire [HW-1:0]   len_b;              // the length, binary
wire [SUMW-1:0] rp_sum = {{(SUMW-RPW){1'b0}}, rp_q} + {{(SUMW-HW){1'b0}}, len_b};
// rp + len >= C: slot rs is used up
wire            wrap   = rp_sum >= C_S;
wire [SUMW-1:0] rp_wr  = rp_sum - C_S;
wire [RPW-1:0]  rp_nx  = wrap ? rp_wr[RPW-1:0] : rp_sum[RPW-1:0];
wire [SW-1:0]   rs_nx  = rs_q == LAST ? {SW{1'b0}} : rs_q + 1'b1;
wire            drop   = dec_i && wrap;
// only the pointer bits of the wrapped sum, only H bits of the shift
wire            unused_rp = ^{rp_wr[SUMW-1:RPW], x_sh[2*C-H-1:0]};

genvar gb;
generate
    for (gb = 0; gb < HW; gb = gb + 1) begin : g_len_b
        localparam [H-1:0] M = len_mask(gb);
        assign len_b[gb] = (len_oh & M) != {H{1'b0}};
    end
endgenerate

// ---- the count ------------------------------------------------------------------
// the count after this cycle's chunks (two only at the first code, when
// the lane does not decode) and code: the sums with the chunks are made
// from the register, so only the length's subtraction and a pick follow
// the code compare
wire [DW-1:0]   d_c1  = d_q + C_D;
wire [DW-1:0]   d_tk  = tk2_i ? d_q + {C_D[DW-2:0], 1'b0} : tk1_i ? d_c1 : d_q;
wire [DW-1:0]   len_d = {{(DW-HW){1'b0}}, len_b};
wire [DW-1:0]   d_dec = tk1_i ? d_c1 - len_d : d_q - len_d;

// ---- next state ---------------------------------------------------------------------
// a slot holds untaken bits from its write until the pointer leaves it
wire [NS-1:0]   sv_d  = (sv_q & ~({NS{drop}} & rs_oh)) | ({NS{tk1_i}} & wp_oh) |
                        ({NS{tk2_i}} & wp1_oh);

always @(posedge clk) begin
    if (rst || clear_i) begin
        wp_q <= {SW{1'b0}};
        rs_q <= {SW{1'b0}};
        rp_q <= {RPW{1'b0}};
        sv_q <= {NS{1'b0}};
        // c = 0; d follows -T from the next cycle on (below), long before
        // the lane's first chunk (T is known after the header's lmax)
        d_q  <= {DW{1'b0}};
        fc_q <= 1'b1;
    end else begin
        // enables written as selects: the same flip-flops with enables,
        // and no data-dependent branch in a simulator
        wp_q <= tk1_i ? (tk2_i ? wp_2 : wp_1) : wp_q;
        fc_q <= fc_q && !tk1_i;
        rp_q <= dec_i ? rp_nx : rp_q;
        rs_q <= drop ? rs_nx : rs_q;
        sv_q <= sv_d;
        // while empty, d follows -T (T is known before the first chunk)
        d_q <= fc_q && !tk1_i ? {1'b1, ~thr_i} + 1'b1 : dec_i ? d_dec : d_tk;
    end
end

// slot data without reset: only slots holding untaken bits are read; a
// second chunk goes to the slot after the first; a chunk is stored
// mirrored (its bit 0 at the slot's top), in the write so that a simulator
// mirrors it only when it is taken
genvar gs;
generate
    for (gs = 0; gs < NS; gs = gs + 1) begin : g_slot
        localparam [SW-1:0] I = gs;
        reg  [C-1:0] sl_q;
        integer      wb;
        // (tk2_i comes only with tk1_i: nothing is written without tk1_i)
        always @(posedge clk) begin
            if (tk1_i) begin
                if (wp_q == I) begin
                    for (wb = 0; wb < C; wb = wb + 1) begin
                        sl_q[C-1-wb] <= chunk_i[wb];
                    end
                end else if (tk2_i && wp_1 == I) begin
                    for (wb = 0; wb < C; wb = wb + 1) begin
                        sl_q[C-1-wb] <= chunk2_i[wb];
                    end
                end
            end
        end
        assign s_q[gs*C +: C] = sl_q;
        assign s_nz[gs]   = sl_q != {C{1'b0}};
    end
endgenerate

// the slot selects decoded (a 2-to-3 decoder each, as a shift of a one)
localparam [NS-1:0] ONE_NS = 1;
assign rs_oh  = ONE_NS << rs_q;
assign wp_oh  = ONE_NS << wp_q;
assign wp1_oh = ONE_NS << wp_1;

// ---- the fill check ---------------------------------------------------------
// slot rs from the pointer on (mirrored: its low C - rp bits, x2's top
// slot), then the other slots holding untaken bits
wire [C-1:0]    th    = {C{1'b1}} >> rp_q;   // bit i: i < C - rp
wire            nz_rs = (x2[2*C-1 -: C] & th) != {C{1'b0}};
wire            nz    = (sv_q & ~rs_oh & s_nz) != {NS{1'b0}} ||
                        ((sv_q & rs_oh) != {NS{1'b0}} && nz_rs);

// the code's bits in stream order, bit 0 first (wiring)
genvar gf;
generate
    for (gf = 0; gf < H; gf = gf + 1) begin : g_front
        assign front_o[gf] = code[H-1-gf];
    end
endgenerate

assign code_o  = code;
assign len_o   = len_b;
assign found_o = found;
assign rf_o    = d_q[DW-1];
assign rf2_o   = fc_q && two_i;
assign first_o = fc_q;
assign zero_o  = !nz;

endmodule

`resetall
`default_nettype wire
