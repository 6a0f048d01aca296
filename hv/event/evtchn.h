/* Event channels (include/hv/abi_event.h): a guest's ports, what each is
 * bound to, and raising events on them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "include/hv/abi.h"

struct guest;
struct vcpu;

struct evtchn {
    uint8_t state; /* enum hv_evtchn_state */
    uint8_t virq;
    uint8_t vcpu;  /* the vCPU it notifies */
    uint8_t pad;
    uint16_t peer_port;
    uint16_t pad2;
    struct guest *peer;
};

/* The guest's port table, made on first use; NULL if out of memory. */
struct evtchn *evtchn_table(struct guest *g);
void evtchn_free_table(struct guest *g);

/* Marks the port pending and, unless masked, notifies its vCPU (wakes it
 * if it sleeps). Returns false for a port that is not bound. */
bool evtchn_raise(struct guest *g, unsigned port);
/* A raise's rest after another path's bts set port's pending bit
 * (hv/sched/idle_timer.c): the vCPU its entry names now is told. */
void evtchn_pended(struct guest *g, unsigned port);
/* Raises the vCPU's virtual interrupt source if it is bound. */
void evtchn_raise_virq(struct vcpu *v, unsigned virq);
/* A guest ended: its peers' ports close and they get a notice. */
void evtchn_guest_ended(struct guest *g);
/* A guest was restarted and runs again: its peers get HV_VIRQ_PEER_RESTARTED. */
void evtchn_guest_restarted(struct guest *g);

int64_t evtchn_bind_virq(struct vcpu *v, uint64_t virq);
int64_t evtchn_alloc_unbound(struct vcpu *v, struct guest *peer);
int64_t evtchn_bind_peer(struct vcpu *v, struct guest *peer, uint64_t peer_port);
int64_t evtchn_bind_ipi(struct vcpu *v, uint64_t target_vcpu);
/* HV_CALL_EVTCHN_SEND: 0 or a negative error. A send that notifies the
 * sending vCPU itself may enter its upcall and leave to it from here
 * (sched_upcall_after_send): then it does not return. */
int64_t evtchn_send(struct vcpu *v, uint64_t port);
int64_t evtchn_close(struct vcpu *v, uint64_t port);
int64_t evtchn_unmask(struct vcpu *v, uint64_t port);
int64_t evtchn_status(struct vcpu *v, uint64_t port, struct hv_evtchn_status *out);
bool evtchn_pending(struct guest *g, unsigned port);
