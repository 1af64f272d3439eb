/* Stand-in for libsodium's crypto_verify_32.h: ed25519_ref10.c includes it but calls nothing
   from it. */
