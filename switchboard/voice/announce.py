"""What a waiting caller is told: position, estimated wait, the callback offer.

Pure wording in the four languages the prompts speak (en, it, fr, zh); the
call controller renders the text with espeak-ng. The wait is rounded up to
whole minutes (a caller told "about 2 minutes" who waits 2:40 feels misled
less than one told "about 2" who waits 3:40), and capped in words past an hour.
"""

from __future__ import annotations

import math

_TEXT = {
    "en": {
        "position": "You are number {n} in the queue.",
        "first": "You are next in the queue.",
        "wait_1": "Your estimated wait is about one minute.",
        "wait_n": "Your estimated wait is about {m} minutes.",
        "wait_long": "Your estimated wait is more than an hour.",
        "callback": "To be called back instead of waiting, press {key}.",
        "callback_ok": "Thank you. We will call you back. Goodbye.",
        "hold": "Please hold.",
        "voicemail_ok": "Thank you. Your message has been recorded. Goodbye.",
    },
    "it": {
        "position": "Sei il numero {n} in coda.",
        "first": "Sei il prossimo in coda.",
        "wait_1": "L'attesa stimata è di circa un minuto.",
        "wait_n": "L'attesa stimata è di circa {m} minuti.",
        "wait_long": "L'attesa stimata è di più di un'ora.",
        "callback": "Per essere richiamato invece di attendere, premi {key}.",
        "callback_ok": "Grazie. Ti richiameremo. Arrivederci.",
        "hold": "Resta in linea.",
        "voicemail_ok": "Grazie. Il tuo messaggio è stato registrato. Arrivederci.",
    },
    "fr": {
        "position": "Vous êtes le numéro {n} dans la file d'attente.",
        "first": "Vous êtes le prochain dans la file d'attente.",
        "wait_1": "Votre attente estimée est d'environ une minute.",
        "wait_n": "Votre attente estimée est d'environ {m} minutes.",
        "wait_long": "Votre attente estimée est de plus d'une heure.",
        "callback": "Pour être rappelé au lieu d'attendre, appuyez sur {key}.",
        "callback_ok": "Merci. Nous vous rappellerons. Au revoir.",
        "hold": "Veuillez patienter.",
        "voicemail_ok": "Merci. Votre message a été enregistré. Au revoir.",
    },
    "zh": {
        "position": "您在队列中排第{n}位。",
        "first": "下一位就是您。",
        "wait_1": "预计等待约一分钟。",
        "wait_n": "预计等待约{m}分钟。",
        "wait_long": "预计等待超过一小时。",
        "callback": "如需回电而不必等待，请按{key}。",
        "callback_ok": "谢谢。我们会给您回电。再见。",
        "hold": "请稍候。",
        "voicemail_ok": "谢谢。您的留言已录下。再见。",
    },
}

LANGUAGES = tuple(_TEXT)


def phrase(key: str, language: str) -> str:
    """One fixed phrase (``hold``, ``callback_ok``) in ``language`` (English
    when the language is not one of :data:`LANGUAGES`)."""
    return _TEXT.get(language, _TEXT["en"])[key]


def queue_announcement(language: str, position: int | None, ewt_s: float | None,
                       callback_key: str | None = None) -> str:
    """The periodic announcement: position (1 is "next"), the estimated wait
    (left out when unknown), and the callback offer when ``callback_key`` is given."""
    t = _TEXT.get(language, _TEXT["en"])
    parts: list[str] = []
    if position is not None and position >= 1:
        parts.append(t["first"] if position == 1 else t["position"].format(n=position))
    if ewt_s is not None and math.isfinite(ewt_s) and ewt_s >= 0:
        minutes = max(1, math.ceil(ewt_s / 60))
        if minutes > 60:
            parts.append(t["wait_long"])
        elif minutes == 1:
            parts.append(t["wait_1"])
        else:
            parts.append(t["wait_n"].format(m=minutes))
    if callback_key is not None:
        parts.append(t["callback"].format(key=callback_key))
    if not parts:
        parts.append(t["hold"])
    return " ".join(parts)
