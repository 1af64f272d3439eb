/* Stand-in for libsodium's utils.h: the one function ed25519_ref10.c calls from it,
   as libsodium's utils.c defines it (constant time). */
#ifndef referendum_sodium_utils_H
#define referendum_sodium_utils_H 1

#include <stddef.h>

static int
sodium_is_zero(const unsigned char *n, const size_t nlen)
{
    size_t                 i;
    volatile unsigned char d = 0U;

    for (i = 0U; i < nlen; i++) {
        d |= n[i];
    }
    return 1 & ((d - 1) >> 8);
}

#endif
