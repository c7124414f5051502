// A plain C++ testbench of ws_top_core, the yardstick of benches/cosim.rs: the same top (built
// by weightstream_sim::build_testbench with the harness's Verilator flags and compiler options),
// the same stimulus (a layer's bus words, its activations) and the same checks as the Rust
// harness at full traffic: every beat compared with the golden beats, every output y with the
// golden y, cycle by cycle with the same two evaluations per cycle.
//
// Usage: tb STIMULUS ITERS. Runs the layer ITERS times, each on a new model (as the harness
// does), and prints one line: "cycles <sum> ns <sum> beats_ok <n> y_ok <n> bad <n>" for the
// last run's checks and the summed cycles (start to done) and nanoseconds (model creation to
// deletion) of all runs.
//
// STIMULUS (little-endian): u32 magic "WSTB", then u32 rows, cols, n_words, wlimbs (u32 limbs per
// bus word), n_acts, n_beats, blimbs (limbs per beat), n_y, acc_bits, budget (cycle bound);
// then n_words * wlimbs u32 words, n_acts u32 activations, n_beats * blimbs u32 packed golden
// beats, n_y i64 golden y.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "VwsvTb.h"
#include "verilated.h"

template <class T>
static inline void set_words(T& port, const uint32_t* w, uint32_t n) {
    uint64_t v = w[0];
    if (n > 1) v |= static_cast<uint64_t>(w[1]) << 32;
    port = static_cast<T>(v);
}
template <std::size_t N>
static inline void set_words(VlWide<N>& port, const uint32_t* w, uint32_t) {
    for (std::size_t i = 0; i < N; ++i) port[i] = w[i];
}
template <class T>
static inline bool eq_words(const T& port, const uint32_t* w, uint32_t n) {
    uint64_t v = w[0];
    if (n > 1) v |= static_cast<uint64_t>(w[1]) << 32;
    return static_cast<uint64_t>(port) == v;
}
template <std::size_t N>
static inline bool eq_words(const VlWide<N>& port, const uint32_t* w, uint32_t) {
    return std::memcmp(port.data(), w, N * sizeof(uint32_t)) == 0;
}

static std::vector<uint32_t> read_u32(FILE* f, size_t n) {
    std::vector<uint32_t> v(n);
    if (n && fread(v.data(), sizeof(uint32_t), n, f) != n) {
        fprintf(stderr, "tb: short stimulus file\n");
        exit(2);
    }
    return v;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: tb STIMULUS ITERS\n");
        return 2;
    }
    FILE* f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    std::vector<uint32_t> hdr = read_u32(f, 11);
    if (hdr[0] != 0x42545357u) {
        fprintf(stderr, "tb: not a stimulus file\n");
        return 2;
    }
    const uint32_t rows = hdr[1], cols = hdr[2], n_words = hdr[3], wl = hdr[4], n_acts = hdr[5];
    const uint32_t n_beats = hdr[6], bl = hdr[7], n_y = hdr[8], acc = hdr[9], budget = hdr[10];
    std::vector<uint32_t> words = read_u32(f, size_t(n_words) * wl);
    std::vector<uint32_t> acts = read_u32(f, n_acts);
    std::vector<uint32_t> beats = read_u32(f, size_t(n_beats) * bl);
    std::vector<int64_t> ys(n_y);
    if (n_y && fread(ys.data(), sizeof(int64_t), n_y, f) != n_y) {
        fprintf(stderr, "tb: short stimulus file\n");
        return 2;
    }
    fclose(f);
    const long iters = atol(argv[2]);

    uint64_t total_cycles = 0, total_ns = 0, beats_ok = 0, y_ok = 0, bad = 0;
    for (long it = 0; it < iters; ++it) {
        const auto t0 = std::chrono::steady_clock::now();
        VerilatedContext* ctx = new VerilatedContext;
        ctx->threads(1);
        ctx->fatalOnError(false);
        VwsvTb* top = new VwsvTb(ctx, "TOP");
        uint64_t cyc = 0;
        auto fall = [&] {
            top->clk = 0;
            ctx->time(10 * cyc);
            top->eval();
        };
        auto rise = [&] {
            top->clk = 1;
            ctx->time(10 * cyc + 5);
            top->eval();
            ++cyc;
        };
        top->clk = 0;
        top->rst = 0;
        ctx->time(0);
        top->eval();
        top->rst = 1;
        for (int i = 0; i < 2; ++i) {
            fall();
            rise();
        }
        top->rst = 0;
        top->eval();
        top->cfg_rows_i = rows;
        top->cfg_cols_i = cols;
        top->start_i = 1;
        fall();
        rise();
        top->start_i = 0;
        const uint64_t start = cyc;
        uint32_t wi = 0, ai = 0, bi = 0, yi = 0;
        bool woff = false, aoff = false;
        beats_ok = y_ok = bad = 0;
        const int sh = 64 - int(acc);
        while (cyc - start < budget) {
            if (top->done_o || top->error_o) break;
            if (!woff) {
                if (wi < n_words) {
                    set_words(top->s_w_data_i, &words[size_t(wi) * wl], wl);
                    top->s_w_last_i = (wi + 1 == n_words);
                    top->s_w_valid_i = 1;
                    woff = true;
                } else {
                    top->s_w_valid_i = 0;
                    top->s_w_last_i = 0;
                }
            }
            if (!aoff) {
                if (ai < n_acts) {
                    top->s_act_data_i = acts[ai];
                    top->s_act_valid_i = 1;
                    aoff = true;
                } else {
                    top->s_act_valid_i = 0;
                }
            }
            top->m_y_ready_i = 1;
            fall();
            if (woff && top->s_w_ready_o) {
                ++wi;
                woff = false;
            }
            if (aoff && top->s_act_ready_o) {
                ++ai;
                aoff = false;
            }
            if (top->mon_beat_fire_o) {
                if (bi < n_beats && eq_words(top->mon_beat_data_o, &beats[size_t(bi) * bl], bl))
                    ++beats_ok;
                else
                    ++bad;
                ++bi;
            }
            if (top->m_y_valid_o && top->m_y_ready_i) {
                const int64_t y = static_cast<int64_t>(static_cast<uint64_t>(top->m_y_data_o) << sh) >> sh;
                if (yi < n_y && y == ys[yi])
                    ++y_ok;
                else
                    ++bad;
                ++yi;
            }
            rise();
        }
        if (!top->done_o) ++bad;
        total_cycles += cyc - start;
        top->final();
        delete top;
        delete ctx;
        total_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
    }
    printf("cycles %llu ns %llu beats_ok %llu y_ok %llu bad %llu\n", (unsigned long long)total_cycles,
           (unsigned long long)total_ns, (unsigned long long)beats_ok, (unsigned long long)y_ok,
           (unsigned long long)bad);
    return 0;
}
