#include "hv/console/serial.h"

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
 * nothing, or a broken one), on the paths that wait for it (the end of the
 * run and a panic): drop output rather than hang the hypervisor. */
#define TX_SPIN_LIMIT 100000
#define FIFO_DEPTH 16

static bool tx_stuck;
static unsigned tx_burst = 1; /* bytes THR takes when THRE is set: the FIFO's depth, or 1 */

static bool present;

int serial_getc(void)
{
    if (!present || !(inb(COM1 + REG_LSR) & 1))
        return -1;
    return inb(COM1 + REG_DATA);
}

bool serial_tx_usable(void)
{
    return present && !tx_stuck;
}

unsigned serial_tx_room(void)
{
    /* THRE: the holding register (and the FIFO, when on) is empty. */
    return inb(COM1 + REG_LSR) & LSR_THR_EMPTY ? tx_burst : 0;
}

void serial_tx_put(uint8_t c)
{
    outb(COM1 + REG_DATA, c);
}

void serial_tx_give_up(void)
{
    tx_stuck = true;
}

unsigned serial_tx_wait_room(void)
{
    if (tx_stuck)
        return 0;
    for (unsigned spins = 0; spins < TX_SPIN_LIMIT; spins++) {
        unsigned room = serial_tx_room();
        if (room)
            return room;
        cpu_relax();
    }
    tx_stuck = true;
    return 0;
}

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
    /* A 16550A shows its FIFOs on in IIR bits 7:6; an 8250 or 16450 has none. */
    tx_burst = (inb(COM1 + REG_FCR) & 0xc0) == 0xc0 ? FIFO_DEPTH : 1;
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
    return true;
}
