// C side of weightstream-sim: one generic wrapper around a Verilated model,
// instantiated once per model variant by the unity file build.rs generates
// (WSV_DEFINE_MODEL). TRACED says whether the model was verilated with
// --trace/--trace-fst (tracing support makes a model ~1.5x slower, so each
// model is built in both variants). It owns the model's VerilatedContext and waveform
// writer and exposes them to Rust through a table of plain C function
// pointers (WsvVtable, mirrored by `RawVtable` in src/model.rs).
#ifndef WSV_MODEL_H_
#define WSV_MODEL_H_

#include <cstdint>
#include <new>

#include "verilated.h"
#if VM_TRACE_FST
#include "verilated_fst_c.h"
typedef VerilatedFstC WsvTraceFile;
#else
#include "verilated_vcd_c.h"
typedef VerilatedVcdC WsvTraceFile;
#endif

extern "C" {
// Keep in sync with `RawVtable` in src/model.rs.
struct WsvVtable {
    void* (*create)();
    void (*destroy)(void*);
    void (*eval)(void*);
    void* (*port_ptr)(void*, uint32_t);
    void (*set_time)(void*, uint64_t);
    int (*trace_open)(void*, const char*);
    void (*trace_dump)(void*, uint64_t);
    void (*trace_flush)(void*);
    void (*trace_close)(void*);
    uint32_t (*status)(void*);
};
}

template <class M>
struct WsvHandle {
    VerilatedContext* ctx = nullptr;
    M* top = nullptr;
    WsvTraceFile* tfp = nullptr;
};

template <class M, bool TRACED>
struct WsvModel {
    typedef WsvHandle<M> H;

    static void* create() {
        H* h = new (std::nothrow) H;
        if (!h) return nullptr;
        try {
            h->ctx = new VerilatedContext;
            // One thread per model: Verilator 5's default is one per core,
            // for every context.
            h->ctx->threads(1);
            if (TRACED) h->ctx->traceEverOn(true);
            // $stop/$fatal mark the context (status()) instead of aborting the host.
            h->ctx->fatalOnError(false);
            h->top = new M(h->ctx, "TOP");
        } catch (...) {
            delete h->ctx;
            delete h;
            return nullptr;
        }
        return h;
    }

    static void trace_close(void* p) {
        H* h = static_cast<H*>(p);
        if (h->tfp) {
            h->tfp->close();  // flushes
            delete h->tfp;
            h->tfp = nullptr;
        }
    }

    static void destroy(void* p) {
        if (!p) return;
        H* h = static_cast<H*>(p);
        bind(h);
        trace_close(h);  // a waveform is always complete, even on early drop
        h->top->final();
        delete h->top;
        delete h->ctx;
        delete h;
    }

    // $finish/$stop reach the context through Verilated::threadContextp(),
    // which is per thread, not per model: point it at this model's context.
    static inline void bind(H* h) {
        if (VL_UNLIKELY(Verilated::threadContextp() != h->ctx)) Verilated::threadContextp(h->ctx);
    }

    static void eval(void* p) {
        H* h = static_cast<H*>(p);
        bind(h);
        h->top->eval();
    }

    static void set_time(void* p, uint64_t t) { static_cast<H*>(p)->ctx->time(t); }

    // 0 on success, -1 if the file could not be opened, -2 if the model
    // variant has no tracing.
    static int trace_open(void* p, const char* path) {
        if constexpr (TRACED) {
            H* h = static_cast<H*>(p);
            trace_close(h);
            WsvTraceFile* tfp = new (std::nothrow) WsvTraceFile;
            if (!tfp) return -1;
            // A fresh writer per file: a model can only be attached before open().
            h->top->trace(tfp, 99);
            tfp->open(path);
            if (!tfp->isOpen()) {
                delete tfp;
                return -1;
            }
            h->tfp = tfp;
            return 0;
        } else {
            (void)p;
            (void)path;
            return -2;
        }
    }

    static void trace_dump(void* p, uint64_t t) {
        H* h = static_cast<H*>(p);
        if (h->tfp) h->tfp->dump(t);
    }

    static void trace_flush(void* p) {
        H* h = static_cast<H*>(p);
        if (h->tfp) h->tfp->flush();
    }

    // bit 0: $finish seen; bit 1: $stop/$fatal/error seen.
    static uint32_t status(void* p) {
        H* h = static_cast<H*>(p);
        return (h->ctx->gotFinish() ? 1u : 0u) | (h->ctx->gotError() ? 2u : 0u);
    }
};

// Defines `extern "C" const WsvVtable* FN()` for model class M (TRACED:
// verilated with tracing); PORTPTR is a function `void* (M*, uint32_t)`
// mapping port index -> port storage.
#define WSV_DEFINE_MODEL(M, TRACED, FN, PORTPTR)                                      \
    static void* FN##_port_ptr(void* p, uint32_t i) {                                 \
        return PORTPTR(static_cast<WsvHandle<M>*>(p)->top, i);                        \
    }                                                                                 \
    extern "C" const WsvVtable* FN() {                                                \
        typedef WsvModel<M, TRACED> W;                                                \
        static const WsvVtable vt = {&W::create,     &W::destroy,     &W::eval,       \
                                     &FN##_port_ptr, &W::set_time,    &W::trace_open, \
                                     &W::trace_dump, &W::trace_flush, &W::trace_close, \
                                     &W::status};                                     \
        return &vt;                                                                   \
    }

#endif  // WSV_MODEL_H_
