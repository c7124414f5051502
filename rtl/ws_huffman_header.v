// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream Huffman header loader, shared by the Huffman decoders
 *
 * Reads the layer's canonical code from the head of a stream
 * (docs/stream-formats.md, bitmap-huffman): lmax (5 bits), the number of
 * codes of each length l = 1..lmax (Q bits each), then the S symbols in
 * canonical order (Q bits each), and keeps what a canonical decode needs:
 *   limit(l) = first(l) + count(l) (<= 2^l, at l + 1 bits, packed as
 *   ws_canon_unit takes them), first(l + 1) = 2 * limit(l), the symbol
 *   index offset base(l) - first(l) mod 2^Q (base(l): codes of lengths
 *   < l), and which lengths the layer has (len_en_o: l <= lmax).
 * The symbols go out on a write port for the decoder's table(s).
 *
 * Per cycle, from the aligner window: lmax alone; then up to CPC counts,
 * as many as the window holds (so that a bad count is found before a
 * later field is missed: the header is checked in stream order), their
 * limits chained in one cycle; then SPC symbols (fewer only for the last
 * group), written to table entries widx .. widx + SPC - 1 (widx a
 * multiple of SPC; entries past S get whatever follows and are never
 * read).  need_o (the bits taken) depends on registered state only (the
 * phase, the fields left and the window count); take_o is its pick.
 *
 * Checks (err_o, bad code, error 6): lmax > H; a count that makes limit(l)
 * > 2^l (over-subscribed) or more than 2^Q codes; the last count leaving
 * limit(lmax) < 2^lmax (incomplete), but for one code of length 1.  The
 * fields are taken whether or not they are good, so the checks are off
 * the pick; a bad count is registered and err_o follows a cycle later (the
 * header then stops waiting, so that no later truncation comes first).
 * With CPC > 1 a group short of counts after the final word is checked in
 * one cycle and waits (wait_o, for the decoder's truncation) in the next.
 * lmax = 0 (no code) ends the header at once.
 */
module ws_huffman_header #(
    // weight bits: count and symbol fields
    parameter integer Q     = 8,
    // longest code length accepted
    parameter integer H     = 12,
    // counts taken per cycle at most
    parameter integer CPC   = 1,
    // symbols taken (written) per cycle at most
    parameter integer SPC   = 1,
    // window bits seen (at least 5, CPC*Q and SPC*Q)
    parameter integer WIN   = 64,
    // width of the window count
    parameter integer CNT_W = 8,
    // width of the length taken ($clog2(WIN+1))
    parameter integer CW    = 7
) (
    // clock
    input  wire                 clk,
    // synchronous active-high reset
    input  wire                 rst,

    // begin a layer: the header is next
    input  wire                 start_i,
    // fields may be taken this cycle (decode phase, no error)
    input  wire                 en_i,
    // aligner window: next stream bits, bit 0 first
    input  wire [WIN-1:0]       win_data_i,
    // aligner window: number of buffered bits
    input  wire [CNT_W-1:0]     win_count_i,
    // aligner window: the final word is in (no more bits will come)
    input  wire                 win_last_i,

    // bits the header takes when take_o (registered state only)
    output wire [CW-1:0]        need_o,
    // the header takes need_o bits this cycle
    output wire                 take_o,
    // the header waits for bits the window does not hold (for the status)
    output wire                 stall_o,
    // ... and may be cut off: every field before the missing one is checked
    // (the decoder's truncation, error 1, needs this)
    output wire                 wait_o,
    // a bad code table (error 6): lmax now, a count found bad the cycle
    // before (the fields are taken, checked or not)
    output wire                 err_o,
    // the header is complete: beats follow (registered)
    output wire                 done_o,

    // the layer's longest code length (registered)
    output wire [4:0]           lmax_o,
    // bit l-1: l <= lmax (registered)
    output wire [H-1:0]         len_en_o,
    // limit(l) at l + 1 bits, packed as ws_canon_unit takes them (registered)
    output wire [H*(H+3)/2-1:0] lim_o,
    // base(l) - first(l) mod 2^Q of length l in [(l-1)*Q +: Q] (registered)
    output wire [H*Q-1:0]       off_o,

    // symbol write: symbols are written this cycle
    output wire                 sym_we_o,
    // symbol write: table index of the first one (a multiple of SPC)
    output wire [Q-1:0]         sym_idx_o,
    // symbol write: symbol sym_idx_o + i in [i*Q +: Q]
    output wire [SPC*Q-1:0]     sym_data_o
);

// header arithmetic: first + count, up to 2^H + 2^Q
localparam integer XW    = (H > Q ? H : Q) + 2;
// counts taken per cycle: 0..CPC; symbols: 0..SPC
localparam integer JW    = $clog2(CPC + 1);

localparam [1:0] PH_LMAX  = 2'd0;   // lmax is next
localparam [1:0] PH_COUNT = 2'd1;   // the count of length hl_q is next
localparam [1:0] PH_SYM   = 2'd2;   // symbol widx_q is next
localparam [1:0] PH_DONE  = 2'd3;   // beats follow

localparam [CNT_W-1:0] FIVE_CN = 5;
localparam [CW-1:0]    FIVE_C  = 5;
localparam [4:0]       H_5     = H[4:0];
localparam [4:0]       CPC_5   = CPC[4:0];
localparam [JW-1:0]    CPC_J   = CPC[JW-1:0];
localparam integer     SPC_X   = SPC;
localparam [Q:0]       SPC_S   = SPC_X[Q:0];
// widx steps by SPC (mod 2^Q: SPC = 2^Q loads every symbol at once)
localparam [Q-1:0]     SPC_Q   = SPC_X[Q-1:0];
localparam integer     Q_X     = Q;
localparam [CW-1:0]    Q_C     = Q_X[CW-1:0];

// parameter checks
generate
    if (Q < 2 || Q > 16 || H < 1 || H > 16 || CPC < 1 || CPC > H || SPC < 1 || SPC > (1 << Q) ||
        WIN < 5 || WIN < CPC*Q || WIN < SPC*Q || (1 << CW) <= WIN) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_huffman_header: need 2 <= Q <= 16, 1 <= H <= 16, 1 <= CPC <= H, 1 <= SPC <= 2^Q, WIN >= 5, CPC*Q and SPC*Q, 2^CW > WIN");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg [1:0]      ph_q;
reg [4:0]      lmax_q;              // longest code length of the layer
reg [H-1:0]    len_en_q;            // bit l-1: l <= lmax
reg [4:0]      hl_q;                // the length whose count is next
reg [XW-1:0]   hfirst_q;            // first(hl_q)
reg [XW-1:0]   pow_q;               // 2^hl_q
reg [Q:0]      hbase_q;             // codes of lengths < hl_q
reg [Q:0]      sym_left_q;          // symbols still to load
reg [Q-1:0]    widx_q;              // table entry of the next symbol

wire [CNT_W-1:0] avail = win_count_i;
wire [4:0]       f_lmax = win_data_i[4:0];

// ---- lmax --------------------------------------------------------------
reg  [H-1:0]   len_en;
integer        le;
always @* begin
    for (le = 0; le < H; le = le + 1) begin
        len_en[le] = le[4:0] < f_lmax;
    end
end
wire           ok_lmax = avail >= FIVE_CN;

// ---- counts: groups of CPC (the last group shorter) ---------------------
// counts left: lmax - hl + 1 (>= 1 in PH_COUNT); the group: min(CPC, left)
wire [4:0]     c_left = lmax_q - hl_q + 5'd1;
wire           g_end  = c_left <= CPC_5;
wire [JW-1:0]  jg     = g_end ? c_left[JW-1:0] : CPC_J;
// count i of the group is in the window, and is in the group
reg  [CPC-1:0] c_here;
integer        ji;
always @* begin
    for (ji = 0; ji < CPC; ji = ji + 1) begin
        c_here[ji] = {{(32-CNT_W){1'b0}}, avail} >= (ji + 1) * Q && ji < {{(32-JW){1'b0}}, jg};
    end
end
// the group is taken whole: lengths hl .. hl + CPC - 1 with hl = 1 mod
// CPC, so length l is always count (l - 1) mod CPC of its group
reg            g_here;
integer        gh;
always @* begin
    g_here = 1'b0;
    for (gh = 0; gh < CPC; gh = gh + 1) begin
        if (gh + 1 == {{(32-JW){1'b0}}, jg}) begin
            g_here = c_here[gh];
        end
    end
end

// the chain over the group: count i is of length hl + i
wire [CPC-1:0] ch_bad;              // count i is bad
wire [CPC*(Q+1)-1:0] ch_tot;        // codes up to count i

genvar gi;
generate
    for (gi = 0; gi < CPC; gi = gi + 1) begin : g_cnt
        localparam [4:0] I5 = gi;
        wire [Q-1:0]  f_cnt = win_data_i[gi*Q +: Q];
        wire [XW-1:0] first;
        wire [Q:0]    base;
        if (gi == 0) begin : g_head
            assign first = hfirst_q;
            assign base  = hbase_q;
        end else begin : g_chain
            // first(l) = 2 * limit(l - 1); base(l) = codes up to l - 1
            assign first = {g_cnt[gi-1].lim[XW-2:0], 1'b0};
            assign base  = g_cnt[gi-1].total[Q:0];
        end
        wire [XW-1:0] lim   = first + {{(XW-Q){1'b0}}, f_cnt};
        // 2^(hl + i): the registered power shifted by a constant
        wire [XW-1:0] pow   = pow_q << gi;
        wire [Q+1:0]  total = {1'b0, base} + {2'b0, f_cnt};
        wire          last  = c_left == I5 + 5'd1;
        wire          one   = lmax_q == 5'd1 && f_cnt == {{(Q-1){1'b0}}, 1'b1};
        // base(l) - first(l) mod 2^Q: the symbol index offset
        wire [Q-1:0]  offs  = base[Q-1:0] - first[Q-1:0];
        assign ch_tot[gi*(Q+1) +: Q+1] = total[Q:0];
        assign ch_bad[gi] = lim > pow || total > {2'b01, {Q{1'b0}}} || (last && lim != pow && !one);
    end
endgenerate

// the codes up to the group's last count (S after the last group)
reg  [Q:0]     g_total;
integer        ci;
always @* begin
    g_total = hbase_q;
    for (ci = 0; ci < CPC; ci = ci + 1) begin
        if (ci + 1 == {{(32-JW){1'b0}}, jg}) begin
            g_total = ch_tot[ci*(Q+1) +: Q+1];
        end
    end
end
wire           c_bad  = (c_here & ch_bad) != {CPC{1'b0}};

// ---- symbols: SPC per cycle (the last group may be shorter) ------------
wire           s_all  = sym_left_q <= SPC_S;
wire [Q:0]     js     = s_all ? sym_left_q : SPC_S;
wire [CNT_W+Q:0] js_bits = {{CNT_W{1'b0}}, js} * Q_X[CNT_W+Q:0];
wire           ok_sym = {{(Q+1){1'b0}}, avail} >= js_bits;

// ---- take --------------------------------------------------------------
wire take_l = en_i && ph_q == PH_LMAX && ok_lmax;
wire take_c = en_i && ph_q == PH_COUNT && g_here;
wire take_s = en_i && ph_q == PH_SYM && ok_sym;

reg [CW-1:0] need;
always @* begin
    case (ph_q)
        PH_LMAX:  need = FIVE_C;
        PH_COUNT: need = {{(CW-JW){1'b0}}, jg} * Q_C;
        default:  need = js_bits[CW-1:0];
    endcase
end

assign need_o   = need;
assign take_o   = take_l || take_c || take_s;
// a bad count is an error as soon as it is in the window, taken or not
// (the rest of its group may be missing): registered, err_o follows
reg    bad_q;
// the counts in the window were checked with the final word in
reg    chk_q;
wire   stall_c  = en_i && ph_q == PH_COUNT && !take_c;
assign err_o    = (take_l && f_lmax > H_5) || bad_q;
assign stall_o  = en_i && ph_q != PH_DONE && !take_o;
assign wait_o   = stall_o && !bad_q && (ph_q != PH_COUNT || CPC == 1 || chk_q);

always @(posedge clk) begin
    if (rst || start_i) begin
        bad_q <= 1'b0;
        chk_q <= 1'b0;
    end else begin
        bad_q <= bad_q || (en_i && ph_q == PH_COUNT && c_bad);
        chk_q <= stall_c && win_last_i && !c_bad;
    end
end

assign done_o   = ph_q == PH_DONE;
assign lmax_o   = lmax_q;
assign len_en_o = len_en_q;
assign sym_we_o   = take_s;
assign sym_idx_o  = widx_q;
assign sym_data_o = win_data_i[SPC*Q-1:0];

// only the low bits of a product or a chain value are kept
wire unused_hdr = ^js_bits[CNT_W+Q:CW];
// the window's bits past the widest field are not read
wire unused_win = ^win_data_i;

always @(posedge clk) begin
    if (rst || start_i) begin
        ph_q     <= PH_LMAX;
        lmax_q   <= 5'd0;
        len_en_q <= {H{1'b0}};
        hl_q     <= 5'd1;
        hfirst_q <= {XW{1'b0}};
        pow_q    <= {{(XW-2){1'b0}}, 2'b10};
        hbase_q  <= {(Q+1){1'b0}};
    end else begin
        if (take_l) begin
            lmax_q   <= f_lmax;
            len_en_q <= len_en;
            hl_q     <= 5'd1;
            hfirst_q <= {XW{1'b0}};
            pow_q    <= {{(XW-2){1'b0}}, 2'b10};
            hbase_q  <= {(Q+1){1'b0}};
            ph_q     <= f_lmax == 5'd0 ? PH_DONE : PH_COUNT;
        end
        if (take_c) begin
            // the next group (after the last one these are not used)
            hfirst_q <= {g_cnt[CPC-1].lim[XW-2:0], 1'b0};
            pow_q    <= pow_q << CPC;
            hbase_q  <= g_cnt[CPC-1].total[Q:0];
            hl_q     <= hl_q + CPC_5;
            if (g_end) begin
                ph_q <= PH_SYM;
            end
        end
        if (take_s && s_all) begin
            ph_q <= PH_DONE;
        end
    end
end

// the symbol counter, no reset: loaded before use
always @(posedge clk) begin
    if (take_c && g_end) begin
        sym_left_q <= g_total;
        widx_q     <= {Q{1'b0}};
    end
    if (take_s) begin
        sym_left_q <= sym_left_q - js;
        widx_q     <= widx_q + SPC_Q;
    end
end

// per length l: limit(l) (l + 1 bits) and the index offset, from count
// (l - 1) mod CPC of the group that begins at hl = l - (l - 1) mod CPC; no
// reset: written before use
genvar gm;
generate
    for (gm = 1; gm <= H; gm = gm + 1) begin : g_len
        localparam integer GI = (gm - 1) % CPC;
        localparam integer HLI = gm - GI;
        localparam [4:0]   HL = HLI[4:0];
        reg [gm:0]  lim_q;
        reg [Q-1:0] off_q;
        always @(posedge clk) begin
            if (take_c && hl_q == HL) begin
                lim_q <= g_cnt[GI].lim[gm:0];
                off_q <= g_cnt[GI].offs;
            end
        end
        assign lim_o[(gm-1)*(gm+2)/2 +: gm+1] = lim_q;
        assign off_o[(gm-1)*Q +: Q]           = off_q;
    end
endgenerate

endmodule

`resetall
`default_nettype wire
