// Language: Verilog 2005

`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * weightstream symbol table in block RAM: canonical index -> symbol, N
 * read ports (larger Q: 2^Q entries of Q bits, 2 kbit at Q = 8)
 *
 * One synchronous-read memory per read port (a block RAM each: an iCE40
 * RAM has one read port), all written alike.  A memory word holds SPC
 * symbols (SPC a power of two dividing 2^Q: 2 at Q = 8, a 16-bit RAM word),
 * so the header loader writes SPC symbols per cycle.  Read port p: ridx_i[p]
 * in one cycle (the word address into the RAM), rdata_o[p] in the next
 * (the RAM's registered word, its symbol picked by the registered low index
 * bits), as ws_sym_table_ff.
 */
module ws_sym_table_ram #(
    // read ports (memories)
    parameter integer N   = 16,
    // symbol bits (2^Q entries)
    parameter integer Q   = 8,
    // symbols per write (per memory word), a power of two
    parameter integer SPC = 2
) (
    // clock
    input  wire             clk,

    // write: SPC symbols this cycle
    input  wire             we_i,
    // write: index of the first (a multiple of SPC)
    input  wire [Q-1:0]     widx_i,
    // write: symbol widx_i + i in [i*Q +: Q]
    input  wire [SPC*Q-1:0] wdata_i,

    // read: port p's index in [p*Q +: Q]
    input  wire [N*Q-1:0]   ridx_i,
    // read: port p's symbol in [p*Q +: Q], one cycle after its index
    output wire [N*Q-1:0]   rdata_o
);

// symbols per word as an index width, and the words
localparam integer SW = SPC > 1 ? $clog2(SPC) : 0;
localparam integer D  = (1 << Q) / SPC;

// parameter checks
generate
    if (N < 1 || Q < 1 || SPC < 1 || (SPC & (SPC - 1)) != 0 || SW >= Q) begin : g_bad_param
`ifdef VERILATOR
        $error("ws_sym_table_ram: need N, Q >= 1 and SPC a power of two below 2^Q");
`else
        ws_error_bad_parameter u_bad ();
`endif
    end
endgenerate

genvar gp;
generate
    for (gp = 0; gp < N; gp = gp + 1) begin : g_port
        // the port's copy (block RAM), no reset: every entry read is written
        reg  [SPC*Q-1:0] mem [0:D-1];
        reg  [SPC*Q-1:0] word_q;
        wire [Q-1:0]     ridx = ridx_i[gp*Q +: Q];
        always @(posedge clk) begin
            if (we_i) begin
                mem[widx_i[Q-1:SW]] <= wdata_i;
            end
            word_q <= mem[ridx[Q-1:SW]];
        end
        if (SW > 0) begin : g_pick
            reg [SW-1:0] lo_q;
            always @(posedge clk) begin
                lo_q <= ridx[SW-1:0];
            end
            assign rdata_o[gp*Q +: Q] = word_q[lo_q*Q +: Q];
        end else begin : g_whole
            assign rdata_o[gp*Q +: Q] = word_q;
        end
    end
endgenerate

// the write index's low bits are zero (a multiple of SPC)
generate
    if (SW > 0) begin : g_unused_lo
        wire unused_widx = ^widx_i[SW-1:0];
    end
endgenerate

endmodule

`resetall
`default_nettype wire
