// Copyright (c) FlowEngine contributors. Licensed under the MIT License.
//
// roofline: the least work that still turns packets into bidirectional flows, written in C, so that FlowEngine's
// rate on a machine can be put next to what that machine's memory system allows at all.
//
// Per frame it reads the headers at fixed places (outer Ethernet/IPv4/UDP 4789/VXLAN, or none; inner Ethernet with
// at most one 802.1Q tag; IPv4 without options or IPv6 without extension headers; TCP or UDP ports), builds a
// 48-byte direction-independent key (VNI, IP version, protocol, lower endpoint first: FlowEngine's key width),
// hashes it with two CRC32C lanes, and counts the packet in an open-addressing table (linear probing over whole
// entries). Frames of any other shape are counted and make the run fail, so the bound is never computed over a
// capture it did not understand. It keeps no timestamps, no TCP state, no size or gap statistics, no expiry.
//
// Entries are one cache line (--entry-lines 1: key, packets and bytes per direction), two (--entry-lines 2: the same
// plus a line with more counters for both directions, which every packet updates) or three (--entry-lines 3: a line
// per direction, and every packet updates state in the third, as FlowEngine's 192-byte entries are laid out).
// Work is staged as FlowEngine's UpdateBatch is, in groups of 16 frames: with --prefetch 1 a group is parsed, hashed
// and its entries prefetched (prefetcht0, FlowEngine's instruction) one group before it is counted; with --prefetch 0
// each group is parsed and then counted, and the out-of-order core overlaps the short lookups' misses by itself.
// Frame headers are prefetched one group ahead of parsing in both. Which is faster depends on the machine and the
// table's size, so run both and take the faster as the bound.
//
// usage: roofline CAPTURE.pcap [--entry-lines 1|2|3] [--prefetch 0|1] [--max-flows N] [--reps R] [--warmup W] [--json]
// The table has a power of two of slots, at least twice --max-flows (default 262144); more flows than that fail the
// run. Rates are packets per CPU-second of the timed passes (CLOCK_PROCESS_CPUTIME_ID), median of the passes.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <nmmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GROUP 16
#define HUGE_PAGE (2u << 20)

typedef struct
{
    uint32_t vni;
    uint8_t version;
    uint8_t protocol;
    uint16_t pad0;
    uint8_t a[16];
    uint8_t b[16];
    uint16_t port_a;
    uint16_t port_b;
    uint32_t pad1;
} flow_key;

typedef struct
{
    flow_key key;
    uint32_t packets[2];
    uint32_t bytes[2];
} line0;

typedef struct
{
    uint64_t bytes;
    uint64_t size_squares;
    uint32_t packets;
    uint32_t last_size;
    uint8_t state;
    uint8_t pad[7];
} direction_counters;

_Static_assert(sizeof(flow_key) == 48, "key is 48 bytes");
_Static_assert(sizeof(line0) == 64, "line 0 is one cache line");
_Static_assert(sizeof(direction_counters) == 32, "a direction's counters are half a line");

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + ((double)t.tv_nsec * 1e-9);
}

static uint16_t be16(const uint8_t* p) { return (uint16_t)((p[0] << 8) | p[1]); }

static uint32_t le32(const uint8_t* p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint64_t be64(const uint8_t* p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return __builtin_bswap64(v);
}

static int order(uint64_t a_high, uint64_t a_low, uint64_t b_high, uint64_t b_low)
{
    return a_high != b_high ? (a_high > b_high ? 1 : -1) : (a_low > b_low) - (a_low < b_low);
}

static int compare_doubles(const void* x, const void* y)
{
    double a = *(const double*)x, b = *(const double*)y;
    return (a > b) - (a < b);
}

static void* huge_alloc(size_t bytes)
{
    size_t rounded = (bytes + HUGE_PAGE - 1) & ~((size_t)HUGE_PAGE - 1);
    void* p = aligned_alloc(HUGE_PAGE, rounded == 0 ? HUGE_PAGE : rounded);
    if (p == NULL)
    {
        fprintf(stderr, "roofline: cannot allocate %zu bytes\n", rounded);
        exit(2);
    }

    madvise(p, rounded, MADV_HUGEPAGE); // as FlowEngine's harness advises its capture and table; advice only
    return p;
}

// Kilobytes of the process's anonymous memory on transparent huge pages (the advice may not be taken).
static long anon_huge_kb(void)
{
    FILE* f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
    {
        if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
        {
            break;
        }
    }

    if (f != NULL)
    {
        fclose(f);
    }

    return kb;
}

// Outer Ethernet / IPv4 without options / UDP to port 4789, as the generator writes VXLAN frames.
static int is_vxlan_outer(const uint8_t* f, uint32_t len)
{
    return len >= 38 && be16(f + 12) == 0x0800 && f[14] == 0x45 && f[23] == 17 && be16(f + 36) == 4789;
}

// Parses one frame into a key; returns the IP length (>0) or 0 for a shape this tool does not handle.
static inline __attribute__((always_inline)) uint32_t parse(const uint8_t* f, uint32_t len, int tunnelled, flow_key* k, int* reverse)
{
    memset(k, 0, sizeof *k);
    const uint8_t* end = f + len;
    const uint8_t* p = f;
    if (tunnelled)
    {
        // Ethernet (14) / IPv4 without options (20) / UDP to 4789 (8) / VXLAN (8)
        if (len < 50 || !is_vxlan_outer(f, len))
        {
            return 0;
        }

        k->vni = ((uint32_t)f[46] << 16) | ((uint32_t)f[47] << 8) | f[48];
        p = f + 50;
    }
    else if (is_vxlan_outer(f, len))
    {
        return 0; // a VXLAN frame in a capture whose first frame was plain: not the shape this run measures
    }

    if (end - p < 14)
    {
        return 0;
    }

    uint16_t type = be16(p + 12);
    p += 14;
    if (type == 0x8100)
    {
        if (end - p < 4)
        {
            return 0;
        }

        type = be16(p + 2);
        p += 4;
    }

    const uint8_t *src, *dst, *l4;
    uint64_t src_high, src_low, dst_high, dst_low;
    uint32_t ip_length;
    if (type == 0x0800)
    {
        if (end - p < 20 || p[0] != 0x45)
        {
            return 0;
        }

        k->version = 4;
        k->protocol = p[9];
        src = p + 12;
        dst = p + 16;
        src_high = ((uint64_t)be16(src) << 16) | be16(src + 2);
        dst_high = ((uint64_t)be16(dst) << 16) | be16(dst + 2);
        src_low = dst_low = 0;
        ip_length = be16(p + 2);
        l4 = p + 20;
    }
    else if (type == 0x86DD)
    {
        if (end - p < 40 || (p[0] >> 4) != 6)
        {
            return 0;
        }

        k->version = 6;
        k->protocol = p[6];
        src = p + 8;
        dst = p + 24;
        src_high = be64(src);
        src_low = be64(src + 8);
        dst_high = be64(dst);
        dst_low = be64(dst + 8);
        ip_length = 40u + be16(p + 4);
        l4 = p + 40;
    }
    else
    {
        return 0;
    }

    if ((k->protocol != 6 && k->protocol != 17) || end - l4 < 4 || ip_length == 0)
    {
        return 0;
    }

    uint16_t sport = be16(l4), dport = be16(l4 + 2);
    int sign = order(src_high, src_low, dst_high, dst_low);
    *reverse = sign > 0 || (sign == 0 && sport > dport);
    if (k->version == 4)
    {
        memcpy(k->a, *reverse ? dst : src, 4);
        memcpy(k->b, *reverse ? src : dst, 4);
    }
    else
    {
        memcpy(k->a, *reverse ? dst : src, 16);
        memcpy(k->b, *reverse ? src : dst, 16);
    }
    k->port_a = *reverse ? dport : sport;
    k->port_b = *reverse ? sport : dport;
    return ip_length;
}

static uint64_t hash(const flow_key* k, uint32_t seed)
{
    uint64_t w[6];
    memcpy(w, k, sizeof w);
    uint64_t x = seed, y = ~seed;
    x = _mm_crc32_u64(x, w[0]);
    y = _mm_crc32_u64(y, w[1]);
    x = _mm_crc32_u64(x, w[2]);
    y = _mm_crc32_u64(y, w[3]);
    x = _mm_crc32_u64(x, w[4]);
    y = _mm_crc32_u64(y, w[5]);
    // Both lanes reach the low bits that pick the slot, as in FlowEngine's FlowKey.Hash.
    uint32_t low = (uint32_t)x ^ (((uint32_t)y << 16) | ((uint32_t)y >> 16));
    return ((uint64_t)(uint32_t)y << 32) | low;
}

static int usage(void)
{
    fprintf(stderr, "usage: roofline CAPTURE.pcap [--entry-lines 1|2|3] [--prefetch 0|1] [--max-flows N] [--reps R] [--warmup W] [--json]\n");
    return 2;
}

int main(int argc, char** argv)
{
    const char* path = NULL;
    int lines = 1, reps = 7, warmup = 1, json = 0, prefetch = 1;
    long max_flows = 262144;
    for (int i = 1; i < argc; i++)
    {
        if (strcmp(argv[i], "--entry-lines") == 0 && i + 1 < argc) lines = atoi(argv[++i]);
        else if (strcmp(argv[i], "--prefetch") == 0 && i + 1 < argc) prefetch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--max-flows") == 0 && i + 1 < argc) max_flows = atol(argv[++i]);
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (argv[i][0] != '-' && path == NULL) path = argv[i];
        else return usage();
    }

    if (path == NULL || (lines < 1 || lines > 3) || (prefetch != 0 && prefetch != 1) || reps < 1 || reps > 1000 || warmup < 0 || max_flows < 1 || max_flows > (1L << 28))
    {
        return usage();
    }

    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0)
    {
        fprintf(stderr, "roofline: %s: %s\n", path, strerror(errno));
        return 2;
    }

    size_t size = (size_t)st.st_size;
    uint8_t* data = huge_alloc(size);
    for (size_t done = 0; done < size;)
    {
        ssize_t n = read(fd, data + done, size - done);
        if (n <= 0)
        {
            fprintf(stderr, "roofline: %s: read failed at byte %zu\n", path, done);
            return 2;
        }

        done += (size_t)n;
    }

    close(fd);

    // Classic pcap, little-endian, microsecond or nanosecond, Ethernet: what FlowEngine.Benchmarks generate writes.
    uint32_t magic = size >= 24 ? le32(data) : 0;
    if ((magic != 0xA1B2C3D4u && magic != 0xA1B23C4Du) || le32(data + 20) != 1)
    {
        fprintf(stderr, "roofline: %s: not a little-endian Ethernet pcap\n", path);
        return 2;
    }

    // One walk over the records, indexing each frame (the arrays grow by doubling).
    size_t count = 0, room = 0, at = 24;
    uint64_t* offsets = NULL;
    uint32_t* lengths = NULL;
    for (; at + 16 <= size; count++)
    {
        uint32_t captured = le32(data + at + 8);
        if (at + 16 + captured > size)
        {
            fprintf(stderr, "roofline: %s: record %zu at byte %zu runs past the end of the file\n", path, count, at);
            return 2;
        }

        if (count == room)
        {
            room = room == 0 ? 4096 : room * 2;
            offsets = realloc(offsets, room * sizeof *offsets);
            lengths = realloc(lengths, room * sizeof *lengths);
            if (offsets == NULL || lengths == NULL)
            {
                fprintf(stderr, "roofline: cannot index %zu frames\n", room);
                return 2;
            }
        }

        offsets[count] = at + 16;
        lengths[count] = captured;
        at += 16 + captured;
    }

    if (count == 0)
    {
        fprintf(stderr, "roofline: %s: no frames\n", path);
        return 2;
    }

    if (at != size)
    {
        fprintf(stderr, "roofline: %s: %zu bytes at byte %zu are not a whole record header\n", path, size - at, at);
        return 2;
    }

    // Tunnelled or plain, decided by the first frame; every frame must then have that shape.
    flow_key probe;
    int probe_reverse;
    int tunnelled = parse(data + offsets[0], lengths[0], 1, &probe, &probe_reverse) != 0;

    // At least twice the flows, a power of two: linear probing stays short at half load or less. (FlowEngine's
    // buckets of eight with tags fill a power of two of slots at least --max-flows: half this many.)
    size_t capacity = 1024;
    while (capacity < (size_t)max_flows * 2) capacity <<= 1;
    size_t entry_bytes = (size_t)lines * 64;
    // 2 lines: both directions' counters share line 1; 3 lines: a line each, and line 2 also holds state that every
    // packet updates (FlowEngine keeps TCP state there).
    size_t direction_stride = lines == 2 ? 32 : 64;
    size_t state_offset = lines == 2 ? 64 : 128;
    uint8_t* table = huge_alloc(capacity * entry_bytes);
    double* rates = calloc((size_t)reps, sizeof *rates);
    size_t flows = 0, other = 0;
    const uint32_t seed = 0x9E3779B9u; // fixed: every run and round has the same layout
    for (int pass = -warmup; pass < reps; pass++)
    {
        memset(table, 0, capacity * entry_bytes);
        size_t mask = capacity - 1;
        flows = 0;
        other = 0;
        size_t counted = 0;
        double started = cpu_seconds();
        // Two groups' worth of parsed keys: with --prefetch 1 group k+1 is parsed, hashed and its entries prefetched
        // before group k is counted, so each prefetch has a group's work to land.
        flow_key keys[2][GROUP];
        uint64_t hashes[2][GROUP];
        uint32_t sizes[2][GROUP];
        int reverse[2][GROUP];
        size_t groups = (count + GROUP - 1) / GROUP;
        for (size_t g = 0; g <= groups; g++)
        {
            // Group g is parsed now; the group counted now is g - 1 when prefetching (wrapping to SIZE_MAX, i.e.
            // none, at g = 0), else g itself.
            size_t counting = prefetch ? g - 1 : g;
            if (g < groups)
            {
                size_t first = g * GROUP;
                size_t group = count - first < GROUP ? count - first : GROUP;
                int b = (int)(g & 1);
                for (size_t i = first + GROUP; i < first + (2 * GROUP) && i < count; i++)
                {
                    __builtin_prefetch(data + offsets[i]);
                    __builtin_prefetch(data + offsets[i] + 64);
                }

                for (size_t i = 0; i < group; i++)
                {
                    sizes[b][i] = parse(data + offsets[first + i], lengths[first + i], tunnelled, &keys[b][i], &reverse[b][i]);
                    hashes[b][i] = hash(&keys[b][i], seed);
                    uint8_t* entry = table + ((hashes[b][i] & mask) * entry_bytes);
                    for (int l = 0; prefetch && l < lines; l++) __builtin_prefetch(entry + (l * 64)); // prefetcht0, as FlowEngine
                }
            }

            if (counting >= groups)
            {
                continue;
            }

            size_t first = counting * GROUP;
            size_t group = count - first < GROUP ? count - first : GROUP;
            int b = (int)(counting & 1);
            for (size_t i = 0; i < group; i++)
            {
                if (sizes[b][i] == 0)
                {
                    other++;
                    continue;
                }

                for (size_t slot = hashes[b][i] & mask;; slot = (slot + 1) & mask)
                {
                    uint8_t* entry = table + (slot * entry_bytes);
                    line0* head = (line0*)entry;
                    if (head->packets[0] == 0 && head->packets[1] == 0)
                    {
                        if (flows == (size_t)max_flows)
                        {
                            fprintf(stderr, "roofline: more than --max-flows %ld flows\n", max_flows);
                            return 1;
                        }

                        head->key = keys[b][i];
                        flows++;
                    }
                    else if (memcmp(&head->key, &keys[b][i], sizeof(flow_key)) != 0)
                    {
                        continue;
                    }

                    int d = reverse[b][i];
                    head->packets[d]++;
                    head->bytes[d] += sizes[b][i];
                    if (lines > 1)
                    {
                        direction_counters* counters = (direction_counters*)(entry + 64 + ((size_t)d * direction_stride));
                        counters->packets++;
                        counters->bytes += sizes[b][i];
                        counters->size_squares += (uint64_t)sizes[b][i] * sizes[b][i];
                        counters->last_size = sizes[b][i];
                        ((direction_counters*)(entry + state_offset))->state |= (uint8_t)(1u << d);
                    }

                    counted++;
                    break;
                }
            }
        }

        double seconds = cpu_seconds() - started;
        if (other != 0)
        {
            fprintf(stderr, "roofline: %s: %zu of %zu frames are not %s TCP/UDP over IPv4/IPv6 (see roofline.c)\n",
                path, other, count, tunnelled ? "VXLAN-encapsulated" : "plain");
            return 1;
        }

        if (counted != count)
        {
            fprintf(stderr, "roofline: counted %zu of %zu frames\n", counted, count);
            return 1;
        }

        if (pass >= 0)
        {
            rates[pass] = (double)count / seconds;
        }
    }

    long huge_kb = anon_huge_kb();
    double* sorted = malloc((size_t)reps * sizeof *sorted);
    memcpy(sorted, rates, (size_t)reps * sizeof *sorted);
    qsort(sorted, (size_t)reps, sizeof *sorted, compare_doubles);
    double median = (reps % 2) != 0 ? sorted[reps / 2] : (sorted[(reps / 2) - 1] + sorted[reps / 2]) / 2;
    printf("roofline: %zu frames, %zu flows, %s, %d-line entries (%zu MiB table), prefetch %s, passes (Mpps):", count,
        flows, tunnelled ? "vxlan" : "plain", lines, (capacity * entry_bytes) >> 20, prefetch ? "on" : "off");
    for (int r = 0; r < reps; r++) printf(" %.2f", rates[r] / 1e6);
    printf("; median %.2f Mpps per CPU-second (%.1f ns/packet); %ld MiB of capture and table on huge pages\n",
        median / 1e6, 1e9 / median, huge_kb / 1024);
    if (json)
    {
        printf("{\"tool\":\"roofline\",\"packets\":%zu,\"flows\":%zu,\"tunnelled\":%s,\"entry_lines\":%d,\"prefetch\":%s,\"table_bytes\":%zu,\"anon_huge_kb\":%ld,"
               "\"reps\":%d,\"median_pps_per_cpu_second\":%.0f,\"pps_per_cpu_second\":[",
            count, flows, tunnelled ? "true" : "false", lines, prefetch ? "true" : "false", capacity * entry_bytes, huge_kb, reps, median);
        for (int r = 0; r < reps; r++) printf("%s%.0f", r == 0 ? "" : ",", rates[r]);
        printf("]}\n");
    }

    return 0;
}
