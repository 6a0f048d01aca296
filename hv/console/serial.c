#include "hv/console/serial.h"

#include "hv/console/log.h"
#include "hv/cpu/x86.h"

#define COM1 0x3f8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define REG_SCRATCH 7
#define LSR_THR_EMPTY 0x20
#define LCR_DLAB 0x80
#define MCR_LOOPBACK 0x10

/* Bound on polling a transmitter that never drains (a UART wired to
 * nothing, or a broken one): drop output rather than hang the hypervisor. */
#define TX_SPIN_LIMIT 100000

static bool tx_stuck;

static void serial_putc(char c)
{
    if (tx_stuck)
        return;
    for (unsigned spins = 0; !(inb(COM1 + REG_LSR) & LSR_THR_EMPTY); spins++) {
        if (spins == TX_SPIN_LIMIT) {
            tx_stuck = true;
            return;
        }
        cpu_relax();
    }
    outb(COM1 + REG_DATA, (uint8_t)c);
}

static void serial_write(const char *s, size_t n, enum log_level level)
{
    (void)level;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            serial_putc('\r');
        serial_putc(s[i]);
    }
}

static bool present;

int serial_getc(void)
{
    if (!present || !(inb(COM1 + REG_LSR) & 1))
        return -1;
    return inb(COM1 + REG_DATA);
}

static const struct console_sink serial_sink = {"serial", serial_write, NULL};

/* A port that is not there reads back 0xff whatever was written; a real
 * 16550 keeps what is written to its scratch register and echoes data in
 * loopback mode. Both checks must pass. */
static bool detect(void)
{
    outb(COM1 + REG_SCRATCH, 0x5a);
    if (inb(COM1 + REG_SCRATCH) != 0x5a)
        return false;
    outb(COM1 + REG_SCRATCH, 0xa5);
    if (inb(COM1 + REG_SCRATCH) != 0xa5)
        return false;

    outb(COM1 + REG_IER, 0x00);         /* polled: no UART interrupts */
    outb(COM1 + REG_LCR, LCR_DLAB);
    outb(COM1 + REG_DATA, 1);           /* divisor 1: 115200 baud */
    outb(COM1 + REG_IER, 0);
    outb(COM1 + REG_LCR, 0x03);         /* 8 data bits, no parity, 1 stop */
    outb(COM1 + REG_FCR, 0xc7);         /* FIFOs on and cleared */
    outb(COM1 + REG_MCR, MCR_LOOPBACK | 0x0e);
    outb(COM1 + REG_DATA, 0xae);
    for (int i = 0; i < 1000 && !(inb(COM1 + REG_LSR) & 1); i++)
        cpu_relax();
    bool echoed = inb(COM1 + REG_DATA) == 0xae;
    outb(COM1 + REG_MCR, 0x0f);         /* DTR, RTS, OUT1, OUT2; loopback off */
    return echoed;
}

bool serial_init(void)
{
    if (!detect())
        return false;
    present = true;
    log_add_sink(&serial_sink);
    return true;
}
