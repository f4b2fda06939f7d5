/*  codec.c - fuzz harness for the wire codec (proto.h).

    Input: a 4-byte header frame, then the body frame. Whatever decodes
    must encode again (the codec never accepts what it would refuse to
    send), and decoding that encoding must give the same bytes once more
    (a decoded message is exactly what was on the wire).                 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "proto.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < PROTO_HEADER_SIZE)
        return 0;
    proto_fault_t fault;
    proto_msg_t *msg = proto_decode (data, PROTO_HEADER_SIZE, data + PROTO_HEADER_SIZE,
                                     size - PROTO_HEADER_SIZE, &fault);
    if (!msg) {
        FUZZ_CHECK (fault.code[0] != '\0', "a refused frame has a fault code");
        FUZZ_CHECK (memchr (fault.text, '\0', sizeof fault.text), "the fault text ends");
        return 0;
    }
    uint8_t hdr[PROTO_HEADER_SIZE];
    char *body = NULL;
    size_t body_size = 0;
    int rc = proto_encode (msg, hdr, &body, &body_size, &fault);
    if (rc != 0)
        fprintf (stderr, "fuzz: %s\n", fault.text);
    FUZZ_CHECK (rc == 0, "a decoded message encodes again");
    FUZZ_CHECK (memcmp (hdr, data, PROTO_HEADER_SIZE) == 0, "with the same header");

    proto_msg_t *back = proto_decode (hdr, sizeof hdr, body, body_size, &fault);
    FUZZ_CHECK (back != NULL, "the encoding decodes");
    uint8_t hdr2[PROTO_HEADER_SIZE];
    char *body2 = NULL;
    size_t body2_size = 0;
    FUZZ_CHECK (proto_encode (back, hdr2, &body2, &body2_size, &fault) == 0,
                "and encodes again");
    FUZZ_CHECK (body2_size == body_size && memcmp (body, body2, body_size) == 0,
                "to the same bytes");
    free (body);
    free (body2);
    proto_msg_destroy (&back);
    proto_msg_destroy (&msg);
    return 0;
}
