// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream bit aligner
 *
 * Takes B-bit words of an LSB-first bit stream from the head of a
 * ws_word_fifo and presents a window of the next WIN stream bits to a
 * decoder (window bit 0 = next stream bit), together with the number of
 * buffered bits.  The decoder consumes 0..min(count, WIN) bits per cycle;
 * in the same cycle the aligner takes up to M words from the FIFO head:
 * the largest k <= M such that the k oldest FIFO words are present and
 *   count - consumed + k*B <= BUF_W.
 * With M*B >= WIN (the default M = ceil(WIN/B)) the window holds at least
 * WIN bits after every cycle in which the FIFO held M words, so a decoder
 * fires a beat per cycle whenever the FIFO has banked enough words, even
 * through a run of beats each needing more than B bits.  The bus, in turn,
 * fills the FIFO at one word per cycle while the decoder consumes less:
 * sparse stretches bank the words that dense stretches need.
 *
 * Buffer: BUF_W = WIN + 3*B bits (the count width the decoders expect).
 * Buffered bits above the count are always zero.  The take count depends
 * combinationally on this cycle's consume (no path to the bus ready, which
 * the FIFO computes from registered state).  Nothing is taken while en_i is
 * low (after the layer's last beat or an error).
 *
 * The last word: s_last_i flags the final word of the layer.  Once the
 * aligner has taken it, win_last_o is high (the FIFO accepts nothing after
 * it, so the FIFO is then empty).  win_tail_ok_o is high when the last word
 * has been taken, no word is left in the FIFO and the remaining buffered
 * bits are only zero padding of that word (fewer than B bits, all zero):
 * the decoder checks it when the layer completes.
 */
module ws_bit_aligner #(
    // bus word width in bits
    parameter integer B   = 64,
    // window width in bits: the most bits presented and consumed per cycle
    parameter integer WIN = 128,
    // most FIFO words taken per cycle (1 <= M < WIN/B + 3); ceil(WIN/B)
    // covers the largest beat
    parameter integer M   = (WIN + B - 1) / B
) (
    // clock
    input  wire                           clk,
    // synchronous active-high reset
    input  wire                           rst,

    // clear the buffer and the last-word flag (start of a layer)
    input  wire                           clear_i,
    // word take enable; must be driven from registered state
    input  wire                           en_i,

    // FIFO head words: word j (j-th oldest) in bits [j*B +: B]
    input  wire [M*B-1:0]                 s_data_i,
    // FIFO head words: word j present (thermometer code)
    input  wire [M-1:0]                   s_valid_i,
    // FIFO head words: word j is the final word of the layer
    input  wire [M-1:0]                   s_last_i,
    // FIFO head words: number taken this cycle
    output wire [$clog2(M+1)-1:0]         s_pop_o,

    // window: the next WIN stream bits, bit 0 = next stream bit
    output wire [WIN-1:0]                 win_data_o,
    // window: number of buffered bits (may exceed WIN)
    output wire [$clog2(WIN+3*B+1)-1:0]   win_count_o,
    // window: the final word has been taken from the FIFO
    output wire                           win_last_o,
    // window: final word taken and only its zero padding remains
    output wire                           win_tail_ok_o,
    // window: number of bits consumed this cycle (<= min(count, WIN))
    input  wire [$clog2(WIN+1)-1:0]       win_consume_i
);

localparam integer BUF_W   = WIN + 3*B;
localparam integer CNT_W   = $clog2(BUF_W + 1);
localparam integer CW      = $clog2(WIN + 1);
localparam integer PW      = $clog2(M + 1);
localparam [CNT_W-1:0] B_CNT   = B[CNT_W-1:0];
localparam [CNT_W:0]   BUF_X   = BUF_W[CNT_W:0];

// parameter checks
generate
    if (B < 1 || WIN < 1 || M < 1 || M*B >= BUF_W) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_bit_aligner: need B, WIN, M >= 1 and M*B < WIN + 3*B");
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
reg [CNT_W:0]   fill;       // count after taking one more word
reg [M*B-1:0]   take_bits;  // the words taken, oldest in the low bits
reg [CNT_W-1:0] take_cnt;   // their bits
reg [PW-1:0]    n_take;     // their number
reg             take_last;  // one of them is the final word
reg             room;
integer         j;

assign s_pop_o       = n_take;
assign win_data_o    = buf_q[WIN-1:0];
assign win_count_o   = cnt_q;
assign win_last_o    = last_q;
assign win_tail_ok_o = last_q && !s_valid_i[0] && (cnt_q < B_CNT) && !(|buf_q);

always @* begin
    buf_d  = buf_q;
    cnt_d  = cnt_q;
    last_d = last_q;

    rest     = buf_q >> win_consume_i;
    rest_cnt = cnt_q - {{(CNT_W-CW){1'b0}}, win_consume_i};

    // take the present head words, oldest first, while they fit
    fill      = {1'b0, rest_cnt};
    take_bits = {M*B{1'b0}};
    take_cnt  = {CNT_W{1'b0}};
    n_take    = {PW{1'b0}};
    take_last = 1'b0;
    room      = en_i;
    for (j = 0; j < M; j = j + 1) begin
        fill = fill + {1'b0, B_CNT};
        room = room && s_valid_i[j] && (fill <= BUF_X);
        if (room) begin
            take_bits[j*B +: B] = s_data_i[j*B +: B];
            take_cnt            = take_cnt + B_CNT;
            n_take              = n_take + 1'b1;
            take_last           = take_last || s_last_i[j];
        end
    end

    buf_d  = rest | ({{(BUF_W-M*B){1'b0}}, take_bits} << rest_cnt);
    cnt_d  = rest_cnt + take_cnt;
    last_d = last_q || take_last;

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
