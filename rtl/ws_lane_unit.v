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
 * The bits are kept as a queue of NS chunk slots of C bits (slot 0 the
 * oldest) with v_q slots valid and a read pointer rp_q < C into slot 0
 * (one-hot): c = C*v - rp.  A chunk taken from the aligner window goes
 * into slot v (v - 1 when a slot is dropped in the same cycle) as it is,
 * with no shift; a code is read at rp from slots 0 and 1 (an AND-OR by
 * the one-hot pointer), and decoding it moves the pointer by its length
 * (a rotation of the one-hot pointer by the one-hot length) and drops
 * slot 0 when the pointer passes its end.  The loop of the unit is:
 * registered pointer -> the code's H bits -> H limit compares -> one-hot
 * length -> pointer and slot drop.  The chunk inputs depend on this
 * cycle's decode only through the slot index (one 2:1 level).
 *
 * The flags the decoder needs to place the next beat's chunks are
 * registered: rf_o (c < T: the lane takes a chunk when its mask bit is
 * set), rf2_o (c + C < T: a second one, at its first code when T > C) and
 * first_o (c == 0, its first code: it cannot decode before its chunks are
 * in).  Their next values come from registers and the hit vector (a
 * decoding lane takes all its chunks in the same cycle, so its count after
 * is c + C*rf - len, and "c' < T" is "len > c + C*rf - T", one hit picked
 * by that registered amount).
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

    // take the chunk chunk_i[C-1:0] this cycle
    input  wire                 tk1_i,
    // take a second chunk chunk_i[2C-1:C] (only with tk1_i, at the first code)
    input  wire                 tk2_i,
    // the chunks: the window slice at the lane's chunk offset
    input  wire [2*C-1:0]       chunk_i,
    // decode a code this cycle (the lane holds at least lmax bits)
    input  wire                 dec_i,

    // the next H bits of the lane's sub-stream, bit 0 first
    output wire [H-1:0]         front_o,
    // the length of the code they begin, one-hot (zero: no code)
    output wire [H-1:0]         len_oh_o,
    // they begin a code of the layer
    output wire                 found_o,
    // registered: c < T
    output wire                 rf_o,
    // registered: c + C < T
    output wire                 rf2_o,
    // registered: c == 0 (the lane's first code is next)
    output wire                 first_o,
    // the bits held are all zero
    output wire                 zero_o
);

// slots: the most bits held is T - 1 + C <= 2H - 1 + C, at a pointer < C
localparam integer CMAX = 2*H - 1 + C;
localparam integer NS   = (CMAX + C - 1) / C;
localparam integer VW   = $clog2(NS + 1);
// the count (and count + C) at 6 bits, as the threshold
localparam integer CCW  = 6;
localparam integer HW   = $clog2(H + 1);
localparam [CCW-1:0] C_C = C[CCW-1:0];
localparam [CCW-1:0] H_C = H[CCW-1:0];

// parameter checks
generate
    if (H < 1 || C < H || NS < 2 || CMAX + C > 63) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_lane_unit: need 1 <= H <= C and 2*H + 2*C <= 64");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg  [NS*C-1:0] s_q;                // slots, slot i in [i*C +: C]
reg  [VW-1:0]   v_q;                // valid slots
reg  [C-1:0]    rp_q;               // read pointer into slot 0, one-hot
reg  [CCW-1:0]  c_q;                // bits held
reg             rf_q;               // c < T
reg             rf2_q;              // c + C < T
reg             fc_q;               // c == 0

// ---- the code at the pointer -------------------------------------------
wire [2*C-1:0]  x2 = s_q[2*C-1:0];
reg  [H-1:0]    front;
integer         fi;
integer         fr;
always @* begin
    front = {H{1'b0}};
    for (fi = 0; fi < H; fi = fi + 1) begin
        for (fr = 0; fr < C; fr = fr + 1) begin
            front[fi] = front[fi] | (rp_q[fr] & x2[fr + fi]);
        end
    end
end

wire [H-1:0]    hit;
wire [H-1:0]    len_oh;
wire            found;

ws_canon_unit #(
    .H(H),
    .LIM_W(LIM_W)
) u_canon (
    .x_i(front),
    .lim_i(lim_i),
    .len_en_i(len_en_i),
    .hit_o(hit),
    .len_oh_o(len_oh),
    .found_o(found)
);

// ---- the pointer after the code: rotated by the length ------------------
// ge[r]: rp >= r (a thermometer of the one-hot pointer)
reg  [C-1:0]    ge;
reg  [C-1:0]    rp_rot;
reg             wrap;               // rp + len >= C: slot 0 is used up
reg  [HW-1:0]   len_b;              // the length, binary
integer         ri;
integer         rl;
always @* begin
    for (ri = 0; ri < C; ri = ri + 1) begin
        ge[ri] = |(rp_q >> ri);
    end
    rp_rot = {C{1'b0}};
    wrap   = 1'b0;
    len_b  = {HW{1'b0}};
    for (rl = 1; rl <= H; rl = rl + 1) begin
        // rotate left by l (mod C)
        rp_rot = rp_rot | ({C{len_oh[rl-1]}} & ((rp_q << rl) | (rp_q >> (C - rl))));
        wrap   = wrap | (len_oh[rl-1] & ge[C-rl]);
        len_b  = len_b | ({HW{len_oh[rl-1]}} & rl[HW-1:0]);
    end
end

wire            drop = dec_i && wrap;

// ---- the count and the flags ---------------------------------------------
// chunks taken now; a decoding lane takes rf_q of them (all its chunks)
wire [1:0]      tk_n   = {1'b0, tk1_i} + {1'b0, tk2_i};
wire [CCW-1:0]  thr    = thr_i;
wire [CCW-1:0]  c_tk   = c_q + (tk_n == 2'd2 ? {C_C[CCW-2:0], 1'b0} : tk_n == 2'd1 ? C_C : {CCW{1'b0}});
wire [CCW-1:0]  c_dec  = c_tk - {{(CCW-HW){1'b0}}, len_b};
// after a decode: c' < T <=> len > e, e = c + C*rf - T (from registers)
wire [CCW:0]    e_x    = {1'b0, c_q} + (rf_q ? {1'b0, C_C} : {(CCW+1){1'b0}}) - {1'b0, thr};
wire            e_neg  = e_x[CCW] || e_x == {(CCW+1){1'b0}};
reg             len_le;                 // len <= e
integer         ei;
always @* begin
    len_le = 1'b0;
    for (ei = 1; ei <= H; ei = ei + 1) begin
        // the hits continued past lmax: a code is never longer
        if (e_x[CCW-1:0] == ei[CCW-1:0]) begin
            len_le = hit[ei-1] || !len_en_i[ei-1];
        end
    end
    if (!e_neg && e_x[CCW-1:0] > H_C) begin
        len_le = 1'b1;
    end
end
wire            rf_dec = e_neg || !len_le;

// ---- next state -------------------------------------------------------------
reg  [NS*C-1:0] s_d;
reg  [VW-1:0]   v_d;
wire [31:0]     v_x = {{(32-VW){1'b0}}, v_q};
integer         si;
always @* begin
    // slot i after an optional drop, then the chunks written behind the
    // valid slots (slot v - drop, and the next one for a second chunk)
    for (si = 0; si < NS; si = si + 1) begin
        if (drop) begin
            if (tk1_i && v_x == si + 1) begin
                s_d[si*C +: C] = chunk_i[C-1:0];
            end else if (si + 1 < NS) begin
                s_d[si*C +: C] = s_q[((si+1) % NS)*C +: C];
            end else begin
                s_d[si*C +: C] = s_q[si*C +: C];
            end
        end else begin
            if (tk1_i && v_x == si) begin
                s_d[si*C +: C] = chunk_i[C-1:0];
            end else if (tk2_i && v_x + 1 == si) begin
                s_d[si*C +: C] = chunk_i[2*C-1:C];
            end else begin
                s_d[si*C +: C] = s_q[si*C +: C];
            end
        end
    end
    v_d = v_q + {{(VW-2){1'b0}}, tk_n} - {{(VW-1){1'b0}}, drop};
end

always @(posedge clk) begin
    if (rst || clear_i) begin
        v_q   <= {VW{1'b0}};
        rp_q  <= {{(C-1){1'b0}}, 1'b1};
        c_q   <= {CCW{1'b0}};
        rf_q  <= 1'b0;
        rf2_q <= 1'b0;
        fc_q  <= 1'b1;
    end else begin
        v_q <= v_d;
        if (dec_i) begin
            rp_q  <= rp_rot;
            c_q   <= c_dec;
            rf_q  <= rf_dec;
            rf2_q <= 1'b0;
        end else begin
            c_q   <= c_tk;
            rf_q  <= c_tk < thr;
            rf2_q <= c_tk + C_C < thr;
        end
        if (tk1_i) begin
            fc_q <= 1'b0;
        end
    end
end

// slot data without reset: only slots below v_q are read
always @(posedge clk) begin
    s_q <= s_d;
end

// ---- the fill check ---------------------------------------------------------
// slot 0's bits at and above the pointer (rp <= i) are untaken
reg  [C-1:0]    le;
reg             nz;
integer         zi;
always @* begin
    for (zi = 0; zi < C; zi = zi + 1) begin
        le[zi] = |(rp_q << (C - 1 - zi));
    end
    nz = v_q != {VW{1'b0}} && |(s_q[C-1:0] & le);
    for (zi = 1; zi < NS; zi = zi + 1) begin
        nz = nz || (v_x > zi && |s_q[zi*C +: C]);
    end
end

assign front_o  = front;
assign len_oh_o = len_oh;
assign found_o  = found;
assign rf_o     = rf_q;
assign rf2_o    = rf2_q;
assign first_o  = fc_q;
assign zero_o   = !nz;

endmodule

`resetall
`default_nettype wire
