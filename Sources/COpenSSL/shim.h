// libcrypto (Debian: libssl-dev) for DLMS security suite 0 (AES-GCM-128) and wireless M-Bus AES and DES.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
