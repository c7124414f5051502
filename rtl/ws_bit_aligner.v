// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream bit aligner
 *
 * Buffers B-bit bus words of an LSB-first bit stream and presents a window
 * of the next WIN stream bits to a decoder (window bit 0 = next stream bit),
 * together with the number of buffered bits.  The decoder consumes
 * 0..min(count, WIN) bits per cycle; a word may be accepted in the same
 * cycle (this is what sustains one beat per cycle).
 *
 * Buffer: BUF_W = WIN + 3*B bits.  Buffered bits above the count are always
 * zero.  The word ready is computed from registered state only:
 *   s_ready_o = en_i & ~last_seen & (count <= BUF_W - B)
 * en_i must itself come from registered state of the consumer.
 *
 * Why 3*B of slack and not B: with BUF_W = WIN + B a word is only taken
 * while count <= WIN, so a decoder that needs more than 2*B bits per beat
 * (e.g. a dense bitmap beat, 144 bits at B = 64) alternates between "fire
 * without taking a word" and "take a word without firing" and the bus
 * idles about a quarter of the time.  With at least 2*B of slack a word is
 * taken in every cycle in which count <= WIN + B, which covers every state
 * reached while the decoder is bus-limited (a decoder that cannot fire
 * holds fewer than WIN bits), so a bus-limited layer runs at one word per
 * cycle.  The third word of slack is prefetch: sparse stretches (beats that
 * take few or no bits) bank one more word for the dense stretch after them;
 * on layers where bits per beat is close to B this brings the cycle count
 * to within 0..3 cycles of an unbounded buffer.
 *
 * The last word: s_last_i flags the final word of the layer.  Once it has
 * been accepted, win_last_o is high and no further words are accepted.
 * win_tail_ok_o is high when the last word has been accepted and the
 * remaining buffered bits are only zero padding of that word (fewer than B
 * bits, all zero): the decoder checks it when the layer completes.
 */
module ws_bit_aligner #(
    // bus word width in bits
    parameter integer B   = 64,
    // window width in bits: the most bits presented and consumed per cycle
    parameter integer WIN = 128
) (
    // clock
    input  wire                           clk,
    // synchronous active-high reset
    input  wire                           rst,

    // clear the buffer and the last-word flag (start of a layer)
    input  wire                           clear_i,
    // word intake enable; must be driven from registered state
    input  wire                           en_i,

    // bus word input: data (stream bit j*B + i in bit i)
    input  wire [B-1:0]                   s_data_i,
    // bus word input: valid
    input  wire                           s_valid_i,
    // bus word input: this is the final word of the layer
    input  wire                           s_last_i,
    // bus word input: ready (registered state only)
    output wire                           s_ready_o,

    // window: the next WIN stream bits, bit 0 = next stream bit
    output wire [WIN-1:0]                 win_data_o,
    // window: number of buffered bits (may exceed WIN)
    output wire [$clog2(WIN+3*B+1)-1:0]   win_count_o,
    // window: the final word has been accepted
    output wire                           win_last_o,
    // window: final word accepted and only its zero padding remains
    output wire                           win_tail_ok_o,
    // window: number of bits consumed this cycle (<= min(count, WIN))
    input  wire [$clog2(WIN+1)-1:0]       win_consume_i
);

localparam integer BUF_W   = WIN + 3*B;
localparam integer CNT_W   = $clog2(BUF_W + 1);
localparam integer CW      = $clog2(WIN + 1);
localparam integer RDY_I   = BUF_W - B;
localparam [CNT_W-1:0] RDY_MAX = RDY_I[CNT_W-1:0];
localparam [CNT_W-1:0] B_CNT   = B[CNT_W-1:0];

// parameter checks
generate
    if (B < 1 || WIN < 1) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_bit_aligner: B and WIN must be >= 1");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

reg [BUF_W-1:0] buf_q, buf_d;
reg [CNT_W-1:0] cnt_q, cnt_d;
reg             last_q, last_d;

reg [BUF_W-1:0] rest;
reg [CNT_W-1:0] rest_cnt;

wire accept = s_valid_i && s_ready_o;

assign s_ready_o     = en_i && !last_q && (cnt_q <= RDY_MAX);
assign win_data_o    = buf_q[WIN-1:0];
assign win_count_o   = cnt_q;
assign win_last_o    = last_q;
assign win_tail_ok_o = last_q && (cnt_q < B_CNT) && !(|buf_q);

always @* begin
    buf_d  = buf_q;
    cnt_d  = cnt_q;
    last_d = last_q;

    rest     = buf_q >> win_consume_i;
    rest_cnt = cnt_q - {{(CNT_W-CW){1'b0}}, win_consume_i};

    buf_d = rest;
    cnt_d = rest_cnt;
    if (accept) begin
        buf_d  = rest | ({{(BUF_W-B){1'b0}}, s_data_i} << rest_cnt);
        cnt_d  = rest_cnt + B_CNT;
        last_d = s_last_i;
    end

    if (clear_i) begin
        buf_d  = {BUF_W{1'b0}};
        cnt_d  = {CNT_W{1'b0}};
        last_d = 1'b0;
    end
end

always @(posedge clk) begin
    if (rst) begin
        buf_q  <= {BUF_W{1'b0}};
        cnt_q  <= {CNT_W{1'b0}};
        last_q <= 1'b0;
    end else begin
        buf_q  <= buf_d;
        cnt_q  <= cnt_d;
        last_q <= last_d;
    end
end

endmodule

`resetall
`default_nettype wire
