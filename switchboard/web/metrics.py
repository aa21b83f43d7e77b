"""Metric names and one-line definitions for tooltips, in every UI language.

The keys are METRICS.md's JSON names (plus the live queue figures of
``GET /api/v1/queues/{id}/stats``); the texts condense METRICS.md's definitions
and use the seeds' terms (``/work/shared/seeds``: e.g. *Livello di servizio*,
*Taux d'abandon*, 平均处理时间). They are marked with :func:`N_` so that Babel
extracts them into the ``metrics`` catalogue; :func:`translated` gives them in
a language.
"""

from __future__ import annotations

from switchboard.web.i18n import Catalog


def N_(message: str) -> str:  # gettext's name for "mark, do not translate now"
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


METRICS: dict[str, tuple[str, str]] = {
    "contacts": (N_("Contacts"),
                 N_("Every contact that reached the system in the period, queued or not.")),
    "offered": (N_("Offered"), N_("Contacts that entered the queue in the period.")),
    "answered": (N_("Answered"), N_("Offered contacts that connected to an agent.")),
    "abandoned": (N_("Abandoned"),
                  N_("Offered contacts whose customer left before reaching an agent.")),
    "short_abandoned": (N_("Short abandons"),
                        N_("Abandoned contacts that waited less than the short-abandon "
                           "threshold (5 s by default).")),
    "abandon_rate": (N_("Abandonment rate"), N_("Abandoned contacts ÷ offered contacts.")),
    "self_service_rate": (N_("Self-service rate"),
                          N_("Contacts completed in the IVR or by a bot with no agent ÷ "
                             "all contacts.")),
    "asa_s": (N_("ASA (average speed of answer)"),
              N_("Average wait in queue of the answered contacts.")),
    "ata_s": (N_("ATA (average time to abandon)"),
              N_("Average wait in queue of the abandoned contacts.")),
    "max_wait_s": (N_("Longest wait"),
                   N_("The longest wait in the period; live, the age of the oldest "
                      "waiting contact.")),
    "longest_wait_s": (N_("Longest wait"),
                       N_("How long the oldest contact now in the queue has waited.")),
    "waiting": (N_("Waiting"), N_("Contacts waiting in the queue now.")),
    "ewt_s": (N_("EWT (expected wait time)"),
              N_("The predicted wait of a contact entering the queue now.")),
    "service_level": (N_("Service level"),
                      N_("Contacts answered within the threshold ÷ (answered + "
                         "abandoned).")),
    "sl_threshold_s": (N_("Service level threshold"),
                       N_("The wait within which an answer counts towards the service "
                          "level (20 s by default).")),
    "att_s": (N_("ATT (average talk time)"),
              N_("Average connected time, hold excluded, per answered contact.")),
    "avg_hold_s": (N_("Average hold time"), N_("Average time on hold per answered contact.")),
    "hold_rate": (N_("Hold rate"), N_("Answered contacts put on hold ÷ answered contacts.")),
    "acw_s": (N_("ACW (after-call work)"),
              N_("Average wrap-up time per answered contact.")),
    "aht_s": (N_("AHT (average handle time)"),
              N_("Talk time + hold time + after-call work, per answered contact.")),
    "rna": (N_("RNA (ring no answer)"), N_("Offers to an agent that timed out unanswered.")),
    "transfers": (N_("Transfers"), N_("Contacts transferred to another agent or queue.")),
    "overflows": (N_("Overflows"),
                  N_("Contacts moved to another queue by an overflow rule.")),
    "callbacks": (N_("Callbacks"), N_("Callbacks requested by customers or scheduled.")),
    "occupancy": (N_("Occupancy"),
                  N_("Handling time ÷ (handling time + available idle time) of the "
                     "logged-in agents.")),
    "utilization": (N_("Utilization"), N_("Handling time ÷ logged-in time.")),
    "shrinkage": (N_("Shrinkage"),
                  N_("Paid time not available to handle contacts ÷ paid time.")),
    "adherence": (N_("Schedule adherence"),
                  N_("Minutes in the scheduled activity ÷ scheduled minutes.")),
    "fcr_rate": (N_("FCR (first contact resolution)"),
                 N_("Answered contacts after which the same customer made no new contact "
                    "within 7 days.")),
    "csat": (N_("CSAT (customer satisfaction)"),
             N_("Share of survey answers 4 or 5 on a 1 to 5 scale.")),
    "nps": (N_("NPS (net promoter score)"),
            N_("Percentage of promoters (9–10) minus percentage of detractors (0–6), from "
               "−100 to +100.")),
    "agents_ready": (N_("Agents ready"), N_("Agents ready to take a contact of this queue.")),
    "agents_logged_in": (N_("Agents logged in"),
                         N_("Agents of this queue who are logged in, whatever their state.")),
}


def translated(catalog: Catalog) -> dict[str, dict[str, str]]:
    """Every metric's name and definition in the catalogue's language."""
    return {key: {"name": catalog.gettext(name), "definition": catalog.gettext(definition)}
            for key, (name, definition) in METRICS.items()}
