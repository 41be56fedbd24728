/* The emulated card's counters, since the process started (or since tapsift_emu_stats_reset).
 * Exported by tapsift_xrt_emulated.so and by the tapsift_emulated_card library: a test or a
 * benchmark reads them in process (dlsym "tapsift_emu_get_stats" on the backend's .so), and
 * TAPSIFT_EMU_STATS=path writes them as JSON when the process exits. */
#ifndef TAPSIFT_EMU_STATS_H
#define TAPSIFT_EMU_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TAPSIFT_EMU_MAX_CUS 32

struct tapsift_emu_cu_stats {
    char name[48]; /* e.g. "syslog_sift_2" */
    uint64_t runs_started;
    uint64_t runs_completed; /* ERT_CMD_STATE_COMPLETED, corrupted ones included */
    uint64_t runs_error;     /* ERT_CMD_STATE_ERROR: injected, or a buffer too small */
    uint64_t runs_aborted;   /* run.abort() or the device closed while queued or hung */
    uint64_t runs_corrupted; /* completed with an injected corrupt output */
    uint64_t busy_ns;        /* time spent executing runs, injected latency included */
    uint64_t active_ns;      /* from its first run's start to its last run's end: busy_ns over
                                this is how much of that span the unit computed (the overlap) */
};

struct tapsift_emu_stats {
    uint64_t syncs_to_device;
    uint64_t bytes_to_device;
    uint64_t syncs_from_device;
    uint64_t bytes_from_device;
    uint64_t buffers_allocated;
    uint64_t bytes_allocated;
    uint64_t runs_started;  /* all CUs */
    uint64_t bounds_errors; /* a run whose buffers were smaller than what the kernel touches */
    uint32_t cu_count;
    struct tapsift_emu_cu_stats cu[TAPSIFT_EMU_MAX_CUS];
};

/* Copies the counters into *out; returns 0. */
int tapsift_emu_get_stats(struct tapsift_emu_stats *out);
/* Zeroes every counter (the CU names stay). */
void tapsift_emu_stats_reset(void);

#ifdef __cplusplus
}
#endif

#endif
