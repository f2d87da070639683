/*
 * energy.c -- per-frame energy, paper Eq. 12:
 *   E_total = E_SOP x SOPs + E_Hop x Hops + E_static.
 *
 * Counts come from the cores (SOPs) and the network (hops); this file only
 * does the arithmetic, with the units spelled out: energies per event are
 * pJ, per-frame energies uJ (1 uJ = 10^6 pJ), static power mW and latency
 * ps, so P x latency = mW x ps = 10^-15 J = 10^-9 uJ.
 *
 * Rejected: folding the latency-based static term into the cores (a frame's
 * latency is known only to the assembly that sees the output decision).
 */
#include "core/core.h"

const struct sm_opt core_energy_conf_opts[] = {
    SM_OPT_D(struct core_energy_conf, e_sop_pj, "energy.e_sop_pj", "20", "pJ",
             0, 1.0e9, "energy of one synaptic operation (SRAM read + accumulate)"),
    SM_OPT_D(struct core_energy_conf, e_hop_pj, "energy.e_hop_pj", "100", "pJ",
             0, 1.0e9, "energy of one packet hop between mesh routers"),
    SM_OPT_E(struct core_energy_conf, static_mode, "energy.static_mode",
             "per_frame", CORE_STATIC_CHOICES,
             "static term: a constant per frame, or static power x frame latency"),
    SM_OPT_D(struct core_energy_conf, e_static_uj, "energy.e_static_uj", "3.52",
             "uJ", 0, 1.0e12, "static energy per frame (static_mode per_frame)"),
    SM_OPT_D(struct core_energy_conf, p_static_mw, "energy.p_static_mw", "0",
             "mW", 0, 1.0e9, "static power of the chip (static_mode power)"),
};
const size_t core_energy_conf_nopts = SM_ARRAY_LEN(core_energy_conf_opts);

void core_energy_frame(const struct core_energy_conf *c, uint64_t sops,
                       uint64_t hops, sim_time_t latency_ps,
                       struct core_energy *out) {
  out->sop_uj = c->e_sop_pj * (double)sops * 1e-6;
  out->hop_uj = c->e_hop_pj * (double)hops * 1e-6;
  out->static_uj = c->static_mode == CORE_STATIC_POWER
                       ? c->p_static_mw * (double)latency_ps * 1e-9
                       : c->e_static_uj;
  out->total_uj = out->sop_uj + out->hop_uj + out->static_uj;
}
