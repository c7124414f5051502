// @generated from rtl/ws_rtl.toml by `weightstream rtl-header`: do not edit.
// FORMAT codes, error codes and parameter ranges of the weightstream RTL.

`ifndef WS_DEFS_VH
`define WS_DEFS_VH

// FORMAT codes
`define WS_FMT_DENSE 0
`define WS_FMT_BITMAP 1
`define WS_FMT_DELTA_BITMAP 2
`define WS_FMT_CSC 3
`define WS_FMT_BITMAP_HUFFMAN 4
`define WS_FMT_DELTA_BITMAP_HUFFMAN 5
`define WS_FMT_LANE_HUFFMAN 6
`define WS_FMT_DELTA_LANE_HUFFMAN 7
`define WS_FMT_NM 8
`define WS_FMT_MIN 0
`define WS_FMT_MAX 8

// error codes on error_code_o (0: none)
`define WS_ERR_NONE 4'd0
`define WS_ERR_TRUNCATED 4'd1
`define WS_ERR_COUNT_EXCEEDS_ROWS 4'd2
`define WS_ERR_RUN_PAST_COLUMN_END 4'd3
`define WS_ERR_TRAILING_DATA 4'd4
`define WS_ERR_BAD_CONFIG 4'd5
`define WS_ERR_BAD_CODE 4'd6
`define WS_ERR_INVALID_CODE 4'd7
`define WS_ERR_BAD_NM_HEADER 4'd8
`define WS_ERR_BAD_NM_POSITION 4'd9

// bitmap-huffman decoder: longest code H, codes per cycle S = min(N, WS_HUF_S), window N + WS_HUF_W
`define WS_HUF_H 12
`define WS_HUF_S 4
`define WS_HUF_W 24

// lane-huffman decoder: chunk bits C, chunks per cycle R = ceil(N / WS_LHUF_LPC), header counts per
// cycle, block-RAM symbol table word bits, the largest flip-flop symbol table (2^Q * Q bits)
`define WS_LHUF_C 12
`define WS_LHUF_LPC 2
`define WS_LHUF_CPC 4
`define WS_LHUF_TWB 16
`define WS_LHUF_FFT 256

// nm decoder: the most entries per group kept and the largest log2 m (a header above either is
// bad-nm-header)
`define WS_NM_KEEP 2
`define WS_NM_MAXLM 2

// parameter ranges (inclusive)
`define WS_N_MIN 1
`define WS_N_MAX 64
`define WS_Q_MIN 2
`define WS_Q_MAX 16
`define WS_B_MIN 8
`define WS_B_MAX 1024
`define WS_R_MIN 1
`define WS_R_MAX 16
`define WS_P_MIN 1
`define WS_P_MAX 32
`define WS_QA_MIN 2
`define WS_QA_MAX 16
`define WS_ACC_MIN 4
`define WS_ACC_MAX 64
`define WS_MAX_O_MIN 1
`define WS_MAX_O_MAX 65535

`endif  // WS_DEFS_VH
