/*  fuzz.h - what the fuzz harnesses share.

    Each harness defines LLVMFuzzerTestOneInput. It is linked either with
    libFuzzer (`make fuzz`, clang -fsanitize=fuzzer) or with replay.c, a
    main that feeds it the files of a corpus (`make check`). A harness
    aborts when it finds a property broken (a decoded message the codec
    will not encode again, a parse that does not read back its own
    output): libFuzzer and the replay test both report an abort.

    The handler harnesses (master, agent) read their input as a sequence
    of records, so one input is a conversation:

        0xFF  ms_lo ms_hi                    time passes, then a tick
        peer  type  len_lo len_hi  body...   a frame from peer (0..254)

    A record cut short by the end of the input is dropped.                */
#ifndef CAIRN_FUZZ_H_INCLUDED
#define CAIRN_FUZZ_H_INCLUDED

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_TICK           0xFF

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/*  A broken property: says which and aborts, so the input is kept.       */
#define FUZZ_CHECK(cond, what)                                              \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf (stderr, "fuzz: %s:%d: %s\n", __FILE__, __LINE__, what); \
            abort ();                                                       \
        }                                                                   \
    } while (0)

typedef struct {
    const uint8_t *data;
    size_t size, pos;
} fuzz_reader_t;

typedef struct {
    int tick;                       /* 1: a tick record, 0: a frame */
    unsigned ms;                    /* tick: milliseconds that pass */
    unsigned peer;                  /* frame: who sends it */
    uint8_t hdr[4];                 /* frame: a Cairn header for `type` */
    const uint8_t *body;
    size_t body_size;
} fuzz_record_t;

/*  The next record; 0 at the end of the input.                            */
static inline int
fuzz_next (fuzz_reader_t *r, fuzz_record_t *rec)
{
    size_t left = r->size - r->pos;
    const uint8_t *p = r->data + r->pos;
    if (left >= 3 && p[0] == FUZZ_TICK) {
        rec->tick = 1;
        rec->ms = (unsigned) p[1] | (unsigned) p[2] << 8;
        r->pos += 3;
        return 1;
    }
    if (left < 4)
        return 0;
    size_t len = (size_t) p[2] | (size_t) p[3] << 8;
    if (len > left - 4)
        return 0;
    rec->tick = 0;
    rec->peer = p[0];
    rec->hdr[0] = 0xCA;
    rec->hdr[1] = 0x1E;
    rec->hdr[2] = 1;
    rec->hdr[3] = p[1];
    rec->body = p + 4;
    rec->body_size = len;
    r->pos += 4 + len;
    return 1;
}

#endif
