// libcrypto (Debian: libssl-dev) for DLMS security suite 0 (AES-GCM-128) and wireless M-Bus AES.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
