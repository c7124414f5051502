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
 * fields are taken whether or not they are good (the decoder registers
 * err_o and stops in the next cycle), so the checks are off the pick.
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

    // bits the header takes when take_o (registered state only)
    output wire [CW-1:0]        need_o,
    // the header takes need_o bits this cycle
    output wire                 take_o,
    // the header waits for bits the window does not hold
    output wire                 wait_o,
    // a bad code table (error 6) found in the fields taken now
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
reg [Q:0]      hbase_q;             // codes of lengths < hl_q
reg [Q:0]      sym_left_q;          // symbols still to load
reg [Q-1:0]    widx_q;              // table entry of the next symbol
reg [H*Q-1:0]  off_q;               // base(l) - first(l) mod 2^Q

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

// ---- counts: up to CPC per cycle, as many as the window holds ----------
// counts left: lmax - hl + 1 (>= 1 in PH_COUNT)
wire [4:0]     c_left = lmax_q - hl_q + 5'd1;
// jc: counts taken this cycle (from registers)
reg  [JW-1:0]  jc;
integer        ji;
always @* begin
    jc = {JW{1'b0}};
    for (ji = 1; ji <= CPC; ji = ji + 1) begin
        if ({{(32-CNT_W){1'b0}}, avail} >= ji * Q && {27'd0, c_left} >= ji) begin
            jc = ji[JW-1:0];
        end
    end
end

// the chain over the counts taken: count i is of length hl + i
wire [CPC*XW-1:0]  ch_first;          // first(hl + i)
wire [CPC*(Q+1)-1:0] ch_base;         // codes of lengths < hl + i
wire [CPC*XW-1:0]  ch_lim;            // limit(hl + i)
wire [CPC*(Q+2)-1:0] ch_total;        // codes of lengths <= hl + i
wire [CPC-1:0]     ch_bad;            // count i is bad
wire [CPC-1:0]     ch_last;           // count i is the last (hl + i == lmax)

genvar gi;
generate
    for (gi = 0; gi < CPC; gi = gi + 1) begin : g_cnt
        localparam [4:0] I5 = gi;
        wire [Q-1:0]  f_cnt = win_data_i[gi*Q +: Q];
        wire [4:0]    l     = hl_q + I5;
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
        wire [XW-1:0] pow   = {{(XW-1){1'b0}}, 1'b1} << l;
        wire [Q+1:0]  total = {1'b0, base} + {2'b0, f_cnt};
        wire          last  = l == lmax_q;
        wire          one   = lmax_q == 5'd1 && f_cnt == {{(Q-1){1'b0}}, 1'b1};
        assign ch_first[gi*XW +: XW]       = first;
        assign ch_base[gi*(Q+1) +: Q+1]    = base;
        assign ch_lim[gi*XW +: XW]         = lim;
        assign ch_total[gi*(Q+2) +: Q+2]   = total;
        assign ch_last[gi]                 = last;
        assign ch_bad[gi] = lim > pow || total > {2'b01, {Q{1'b0}}} || (last && lim != pow && !one);
    end
endgenerate

// the first bad count among those taken, and the state after them
reg            c_bad;
reg            c_end;               // the last count is among them
reg  [XW-1:0]  c_first;             // first(hl + jc)
reg  [Q:0]     c_base;              // codes of lengths < hl + jc
integer        ci;
always @* begin
    c_bad   = 1'b0;
    c_end   = 1'b0;
    c_first = hfirst_q;
    c_base  = hbase_q;
    for (ci = 0; ci < CPC; ci = ci + 1) begin
        if (ci < jc) begin
            c_bad   = c_bad || ch_bad[ci];
            c_end   = c_end || ch_last[ci];
            c_first = {ch_lim[ci*XW +: XW-1], 1'b0};
            c_base  = ch_total[ci*(Q+2) +: Q+1];
        end
    end
end

// ---- symbols: SPC per cycle (the last group may be shorter) ------------
wire           s_all  = sym_left_q <= SPC_S;
wire [Q:0]     js     = s_all ? sym_left_q : SPC_S;
wire [CNT_W+Q:0] js_bits = {{CNT_W{1'b0}}, js} * Q_X[CNT_W+Q:0];
wire           ok_sym = {{(Q+1){1'b0}}, avail} >= js_bits;

// ---- take --------------------------------------------------------------
wire take_l = en_i && ph_q == PH_LMAX && ok_lmax;
wire take_c = en_i && ph_q == PH_COUNT && jc != {JW{1'b0}};
wire take_s = en_i && ph_q == PH_SYM && ok_sym;

reg [CW-1:0] need;
always @* begin
    case (ph_q)
        PH_LMAX:  need = FIVE_C;
        PH_COUNT: need = {{(CW-JW){1'b0}}, jc} * Q_C;
        default:  need = js_bits[CW-1:0];
    endcase
end

assign need_o   = need;
assign take_o   = take_l || take_c || take_s;
assign wait_o   = en_i && ph_q != PH_DONE && !take_o;
assign err_o    = (take_l && f_lmax > H_5) || (take_c && c_bad);
assign done_o   = ph_q == PH_DONE;
assign lmax_o   = lmax_q;
assign len_en_o = len_en_q;
assign off_o    = off_q;
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
        hbase_q  <= {(Q+1){1'b0}};
    end else begin
        if (take_l) begin
            lmax_q   <= f_lmax;
            len_en_q <= len_en;
            hl_q     <= 5'd1;
            hfirst_q <= {XW{1'b0}};
            hbase_q  <= {(Q+1){1'b0}};
            ph_q     <= f_lmax == 5'd0 ? PH_DONE : PH_COUNT;
        end
        if (take_c) begin
            hfirst_q <= c_first;
            hbase_q  <= c_base;
            hl_q     <= hl_q + {{(5-JW){1'b0}}, jc};
            if (c_end) begin
                ph_q <= PH_SYM;
            end
        end
        if (take_s && s_all) begin
            ph_q <= PH_DONE;
        end
    end
end

// per-length values and the symbol counter, no reset: written before use
integer hi;
integer hk;
always @(posedge clk) begin
    if (take_c) begin
        for (hk = 0; hk < CPC; hk = hk + 1) begin
            for (hi = 1; hi <= H; hi = hi + 1) begin
                if (hk < jc && hl_q + hk[4:0] == hi[4:0]) begin
                    off_q[(hi-1)*Q +: Q] <= ch_base[hk*(Q+1) +: Q] - ch_first[hk*XW +: Q];
                end
            end
        end
        if (c_end) begin
            sym_left_q <= c_base;
            widx_q     <= {Q{1'b0}};
        end
    end
    if (take_s) begin
        sym_left_q <= sym_left_q - js;
        widx_q     <= widx_q + SPC_Q;
    end
end

// limit(l) per length, l + 1 bits
genvar gm;
generate
    for (gm = 1; gm <= H; gm = gm + 1) begin : g_lim
        localparam [4:0] L5 = gm;
        reg [gm:0] lim_q;
        integer    mk;
        always @(posedge clk) begin
            if (take_c) begin
                for (mk = 0; mk < CPC; mk = mk + 1) begin
                    if (mk < jc && hl_q + mk[4:0] == L5) begin
                        lim_q <= ch_lim[mk*XW +: gm+1];
                    end
                end
            end
        end
        assign lim_o[(gm-1)*(gm+2)/2 +: gm+1] = lim_q;
    end
endgenerate

endmodule

`resetall
`default_nettype wire
