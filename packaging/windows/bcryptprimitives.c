/* Test fixture for running the Windows builds under Wine 8.0 (Debian 12), never shipped.
 *
 * Rust's standard library gets its random bytes (HashMap seeds, ...) from ProcessPrng in
 * bcryptprimitives.dll, which every Windows since 10 has but Wine 8.0 does not implement: without it
 * every Rust .exe stops at start-up with "Library bcryptprimitives.dll ... not found". Placed beside
 * the .exe, this DLL provides it from RtlGenRandom (advapi32's SystemFunction036), which Wine has.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom's real export name; declared here because <ntsecapi.h> needs extra defines for it. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a ULONG length: feed larger requests in pieces. */
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
