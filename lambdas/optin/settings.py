"""One typed settings object, read from the environment once per process.

Every function reads its configuration through :func:`load_settings`; nothing else in the
package looks at ``os.environ``. The CDK stack sets these variables from ``cdk.json`` context.
A bad value fails loudly at the first invocation with the variable's name in the message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from optin.languages import DEFAULT_LANGUAGE, LANGUAGES

if TYPE_CHECKING:
    from optin.followups.sequence import FollowUpStep

# Keyword sets per language (the language a keyword tells: a stranger's reply is answered in it).
# Configured lists may tag an entry with its language: "BAJA:es"; untagged entries keep the language
# their default tells, if any. Words are matched accent-free and case-free: "SI" also reads "Sí".
_CONFIRM = {"en": ("YES", "Y", "CONFIRM"), "es": ("SI", "SÍ"), "fr": ("OUI",)}
_OPT_OUT = {
    "en": (
        "STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "REVOKE", "OPTOUT",
        "OPT-OUT", "OPT OUT", "REMOVE",
    ),
    "": ("TD",),  # one of AWS's default opt-out keywords; it tells no language
    "es": ("ALTO", "PARAR", "PARE", "BAJA", "CANCELAR"),
    "fr": ("ARRET", "ARRÊTER", "ARRÊTEZ", "DÉSABONNER"),
}  # fmt: skip
_OPT_IN = {"en": ("START", "UNSTOP")}
_HELP = {"en": ("HELP", "INFO"), "es": ("AYUDA",), "fr": ("AIDE",)}
# Revocation words: opt out wherever they stand, as whole words, unless inside an exception.
_REVOCATION_WORDS = {
    "en": ("STOP", "STOPALL", "QUIT", "END", "REVOKE", "CANCEL", "UNSUBSCRIBE", "OPTOUT", "OPT OUT"),
    "es": ("ALTO", "PARAR", "BAJA", "CANCELAR"),
    "fr": ("ARRÊT", "ARRÊTER", "ARRÊTEZ", "ARRÊTE", "DÉSABONNER", "DÉSABONNEZ", "DÉSINSCRIRE"),
}
_TEXTS_EN = (
    "texts|text|txt|txts|texting|messages|message|messaging|msgs|msg|sms|alerts|notifications|spam|promos"
)
_SEND_EN = "text|txt|texting|message|msg|sms|contact|call|email|send|spam|bother"
_TEXTS_ES = "mensajes|mensaje|msjs|msj|sms|textos|texto|notificaciones|promociones|publicidad"
_SEND_ES = (
    "envies|envien|envie|mandes|manden|mande|escribas|escriban|escriba|contactes|contacten|llames|llamen|"
    "molestes|molesten"
)
_TEXTS_FR = "messages|message|sms|textos|texto|notifications|promotions|pubs|publicites"
# Plain-language revocations (syntax in optin.keywords): "a|b" are alternatives for one word, "do-not"
# is one alternative of two words, "=" anchors a phrase to the whole message.
_PHRASES = {
    "en": (
        "take|get|remove|delete|drop|scratch|cross|pull me|us off|from",
        "take|get|remove|delete|drop|scratch|cross|pull my|this|our|the number|phone off|from",
        "remove|delete|erase me|us",
        "remove|delete|erase my|this|our number|info|information|details|data|contact",
        "please remove",
        f"no more {_TEXTS_EN}",
        f"dont|do-not|never {_SEND_EN} me|us|this|anymore|again|ever",
        f"=dont|do-not|never {_SEND_EN}",
        "leave me|us alone",
        "go away",
        "fuck|piss|buzz|bugger|sod|f|back off",
        "fuck you|u",
        "wrong number|person|phone|recipient|guy|girl",
        "not my number",
        "not interested",
        "no longer interested|want|need|wish",
        f"dont|do-not|never want|need {_TEXTS_EN}|this|these|them|any|anymore|your|ur",
        "dont|do-not|never want|wish to receive|get|be",
        "lose|delete|forget my number",
        "get lost",
        "stahp",
        "didnt|did-not|never sign|signed|subscribe|subscribed|opt|opted|ask|asked|agree|agreed|consent|consented",
        "unsub|unsubscribed|unsubscribing|unsubcribe|unsuscribe|unsubscibe|unsubsribe|unsusbcribe",
        "stpo|sotp|cancle|cancell|unsubscrbe",
        f"enough {_TEXTS_EN}",
        "opt me|us out",
        "opting|opted out",
        "cease|desist",
        "cancelled|canceled|cancelling|canceling",
        "want out",
        "get me|us out",
        "=stopping|stopped|quitting",
        "is spam",
        "spamming",
        "block|blocking you|this|your|ur",
        "=no|n|nope|nah|spam|enough|wrong|block|delete",
        "=nah|no im good",
        "=im good",
        "=no more",
        "=no thanks|thx|ty",
        "=no thank you",
    ),
    "es": (
        f"no mas {_TEXTS_ES}",
        "=no mas",
        f"no me {_SEND_ES}",
        "ya no quiero|deseo",
        f"no quiero|deseo {_TEXTS_ES}|recibir|mas|nada",
        "deja|dejen|deje|dejar de enviar|enviarme|mandar|mandarme|escribir|escribirme|molestar|molestarme|llamarme",
        "dejame|dejenme|dejeme en paz",
        "sacame|quitame|borrame|eliminame|saquenme|quitenme|borrenme|eliminenme|sacarme|quitarme|borrarme|eliminarme de",
        "eliminar|borrar|quitar|eliminen|borren|quiten mi numero",
        "numero equivocado|incorrecto|errado",
        "equivocaron|equivocado|equivocada de numero",
        "=equivocado|equivocada",
        "no me interesa|interesan",
        "no estoy interesado|interesada",
        "desuscribir|desuscribirme|desuscribeme|desuscribirse|desinscribir|desinscribirme|desuscripcion",
        "darse|darme de baja",
        "cancela|cancele|cancelen|cancelo",
        "detener|deten|detengan|paren",
        "=basta",
        "basta de",
        "=para|salir|eliminar|borrar",
        "=no quiero",
        "=ya basta",
        "=no gracias",
    ),
    "fr": (
        f"plus de {_TEXTS_FR}",
        "m envoyez|ecrivez|contactez|appelez|envoie|ecris|contacte|textez plus",
        "ne plus m envoyer|ecrire|contacter|appeler",
        "ne plus recevoir",
        "laissez|laisse|laisser moi|nous tranquille|tranquilles",
        "moi|nous la|en paix",
        "cessez|cesser|cesse",
        "trompe|trompes|trompee|trompez de numero",
        "retirez|retire|enlevez|enleve|supprimez|supprime|effacez|efface|rayez|raye moi|nous|mon",
        "mauvais|faux numero",
        "erreur de numero",
        "pas interesse|interessee|interesses|interessees",
        "m interesse|interessent pas|plus",
        "ne veux|voulons plus",
        "desinscrivez|desinscris|desinscription|desabonnement|desabonne|desabonnez-moi|annuler|annulez",
        "=non|non merci",
    ),
}
# The exceptions, in this one place: where a revocation word (or phrase) does not revoke, because it is
# plainly negated or part of an unrelated phrase. Kept small on purpose: when in doubt, opt out.
_EXCEPTIONS = (
    # plainly negated
    "don't|do-not|can't|cannot|can-not|never|won't|will-not stop",
    "don't|do-not|never cancel|unsubscribe|quit",
    "no paren|parar|cancelar|cancele|cancelen",
    "no me des|den de baja",
    "n'arrêtez|n'arrête pas",
    "ne pas|jamais arrêter",
    # part of an unrelated phrase
    "stop by",
    "bus|pit|one|non stop",
    "the end",
    "end of|up",
    "end to end",
    "high|dead end",
    "sin parar",
    "sans arrêt",
    "Baja California",
    "Palo Alto",
)


def _plain_entries(by_language: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(entry for entries in by_language.values() for entry in entries)


DEFAULT_CONFIRM_KEYWORDS = _plain_entries(_CONFIRM)
DEFAULT_OPT_OUT_KEYWORDS = _plain_entries(_OPT_OUT)
DEFAULT_OPT_IN_KEYWORDS = _plain_entries(_OPT_IN)
DEFAULT_HELP_KEYWORDS = _plain_entries(_HELP)
DEFAULT_REVOCATION_WORDS = _plain_entries(_REVOCATION_WORDS)
DEFAULT_REVOCATION_PHRASES = tuple(p.upper() for p in _plain_entries(_PHRASES))
DEFAULT_KEYWORD_EXCEPTIONS = tuple(e.upper() for e in _EXCEPTIONS)
# Entry (upper case, spaces collapsed) -> the language it tells.
DEFAULT_KEYWORD_LANGUAGES: dict[str, str] = {
    " ".join(entry.upper().split()): language
    for table in (_CONFIRM, _OPT_OUT, _OPT_IN, _HELP, _REVOCATION_WORDS, _PHRASES)
    for language, entries in table.items()
    if language
    for entry in entries
}
REVOCATION_RULES = ("revocation_word", "phrase", "obfuscation")  # the optional rules (optin.keywords.Rule)

# Every default text fits one GSM-7 segment (160 characters) with a brand of up to 20 characters:
# a second segment would double the cost of every confirmation (tests/test_texts.py).
DEFAULT_CONFIRMATION_TEMPLATE = (
    "{brand}: Thanks for signing up! {frequency}. Msg & data rates may apply. "
    "Reply YES to confirm, HELP for help, STOP to cancel."
)
DEFAULT_WELCOME_TEMPLATE = (
    "{brand}: You're subscribed. {frequency}. Msg & data rates may apply. "
    "Reply HELP for help, STOP to cancel."
)
DEFAULT_HELP_TEMPLATE = (
    "{brand}: Help at {help_url}. {frequency}. Msg & data rates may apply. Reply STOP to cancel."
)
DEFAULT_OPT_OUT_TEMPLATE = (
    "{brand}: You're unsubscribed and will receive no more messages. Reply START to rejoin."
)
DEFAULT_ALREADY_CONFIRMED_TEMPLATE = (
    "{brand}: You're already subscribed. Reply HELP for help, STOP to cancel."
)
DEFAULT_SIGNUP_TEMPLATE = "{brand}: We have no pending sign-up for this number. Sign up at {signup_url}"
DEFAULT_NUDGE_TEMPLATE = (
    "{brand}: Sorry, we didn't understand your reply. Reply YES to confirm your sign-up or STOP to cancel."
)
# The texts in Spanish and French: GSM-7 wording (one character outside it, such as "í" or "ê", would
# make the whole text UCS-2 and cut a segment to 70 characters), so "SI", never "SÍ".
TEXT_NAMES = ("confirmation", "welcome", "help", "opt_out", "already_confirmed", "signup", "nudge")
DEFAULT_TRANSLATIONS: dict[str, dict[str, str]] = {
    "es": {
        "confirmation": "{brand}: ¡Gracias! {frequency}. Pueden aplicarse tarifas de msj y datos. "
        "Responde SI para confirmar, AYUDA para ayuda, STOP para cancelar.",
        "welcome": "{brand}: Te suscribiste. {frequency}. Pueden aplicarse tarifas de msj y datos. "
        "Responde AYUDA para ayuda, STOP para cancelar.",
        "help": "{brand}: Ayuda en {help_url}. {frequency}. Pueden aplicarse tarifas de msj y datos. "
        "Responde STOP para cancelar.",
        "opt_out": "{brand}: Te diste de baja y ya no te enviaremos mensajes. "
        "Responde START para volver a suscribirte.",
        "already_confirmed": "{brand}: Ya te suscribiste. Responde AYUDA para ayuda, STOP para cancelar.",
        "signup": "{brand}: No hay un registro pendiente para este teléfono. Puedes suscribirte en {signup_url}",
        "nudge": "{brand}: No entendimos tu respuesta. Responde SI para confirmar tu registro o STOP para cancelar.",
    },
    "fr": {
        "confirmation": "{brand}: Merci! {frequency}. Frais de msg et données possibles. "
        "Répondez OUI pour confirmer, AIDE pour l'aide, STOP pour annuler.",
        "welcome": "{brand}: Inscription confirmée. {frequency}. Frais de msg et données possibles. "
        "Répondez AIDE pour l'aide, STOP pour annuler.",
        "help": "{brand}: Aide sur {help_url}. {frequency}. Frais de msg et données possibles. "
        "Répondez STOP pour annuler.",
        "opt_out": "{brand}: Désinscription confirmée, vous ne recevrez plus de messages. "
        "Répondez START pour revenir.",
        "already_confirmed": "{brand}: Votre inscription est déjà confirmée. "
        "Répondez AIDE pour l'aide, STOP pour annuler.",
        "signup": "{brand}: Aucune inscription en attente pour ce numéro. Inscrivez-vous sur {signup_url}",
        "nudge": "{brand}: Nous n'avons pas compris votre réponse. Répondez OUI pour confirmer ou STOP pour annuler.",
    },
}
DEFAULT_MESSAGE_FREQUENCY = "Up to 4 msgs/month"
# The default frequency in the other languages; a custom MESSAGE_FREQUENCY is used as written in every
# language that has no MESSAGE_FREQUENCY_<LANG> of its own (never a translation of another number).
DEFAULT_FREQUENCIES = {"es": "Hasta 4 msjs/mes", "fr": "Jusqu'à 4 msgs/mois"}
TEXT_FIELDS = ("brand", "frequency", "help_url", "signup_url")


class SettingsError(ValueError):
    """A configuration variable is missing or malformed."""


class BadSetting(SettingsError, SystemExit):
    """A SettingsError that, left uncaught, ends the process with its one line (``Configuration error:
    X must be ..., got ...``) and exit status 1 instead of a traceback: what a newcomer sees when the
    sandbox starts, or a function's cold start fails, with a malformed variable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = message  # SystemExit prints a text code on stderr and exits 1


@dataclass(frozen=True)
class Settings:
    """Configuration of every function. Field docs name the environment variable."""

    # Data (table names)
    contacts_table: str = "Contacts"  # CONTACTS_TABLE
    lookup_cache_table: str = "PhoneLookups"  # LOOKUP_CACHE_TABLE
    idempotency_table: str = "Idempotency"  # IDEMPOTENCY_TABLE

    # Messaging
    origination_identity: str = ""  # ORIGINATION_IDENTITY: phone number id, ARN or E.164
    own_numbers: tuple[str, ...] = ()  # OWN_NUMBERS: comma-separated E.164 numbers that are ours
    configuration_set: str | None = None  # CONFIGURATION_SET
    pinpoint_project_id: str | None = None  # PINPOINT_PROJECT_ID: mirror endpoints when set
    self_managed_opt_outs: bool = True  # SELF_MANAGED_OPT_OUTS: we (not AWS) answer STOP and HELP
    # NUMBER_KEYWORDS: keywords registered on the number with a message of their own; End User Messaging
    # answers those itself, so the function applies them but sends no second reply.
    number_keywords: tuple[str, ...] = ()

    # Brand and texts
    brand: str = "ExampleCorp"  # BRAND_NAME
    message_frequency: str = DEFAULT_MESSAGE_FREQUENCY  # MESSAGE_FREQUENCY
    help_url: str = "example.com/help"  # HELP_URL
    signup_url: str | None = None  # SIGNUP_URL: when set, unknown numbers texting YES get a link
    consent_text_version: str = "v1"  # CONSENT_TEXT_VERSION
    confirmation_template: str = DEFAULT_CONFIRMATION_TEMPLATE  # CONFIRMATION_TEMPLATE
    welcome_template: str = DEFAULT_WELCOME_TEMPLATE  # WELCOME_TEMPLATE
    help_template: str = DEFAULT_HELP_TEMPLATE  # HELP_TEMPLATE
    opt_out_template: str = DEFAULT_OPT_OUT_TEMPLATE  # OPT_OUT_TEMPLATE
    already_confirmed_template: str = DEFAULT_ALREADY_CONFIRMED_TEMPLATE  # ALREADY_CONFIRMED_TEMPLATE
    signup_template: str = DEFAULT_SIGNUP_TEMPLATE  # SIGNUP_TEMPLATE
    nudge_template: str = DEFAULT_NUDGE_TEMPLATE  # NUDGE_TEMPLATE

    # Languages (en, es, fr). The English texts are the *_TEMPLATE fields above; the others come from
    # <NAME>_TEMPLATE_ES and _FR (e.g. CONFIRMATION_TEMPLATE_ES), else the built-in translations.
    default_language: str = DEFAULT_LANGUAGE  # DEFAULT_LANGUAGE: texts when nothing tells a language
    translations: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_TRANSLATIONS.items()}
    )
    # MESSAGE_FREQUENCY_ES, MESSAGE_FREQUENCY_FR: only those set (see frequency())
    message_frequencies: Mapping[str, str] = field(default_factory=dict)
    # NUDGE_UNRECOGNIZED: a pending contact's first unrecognized reply of an episode gets the nudge
    nudge_unrecognized: bool = True

    # API
    allowed_origins: tuple[str, ...] = ()  # ALLOWED_ORIGINS: comma-separated origins for CORS

    # Phone numbers
    default_country: str = "US"  # DEFAULT_COUNTRY
    allowed_countries: tuple[str, ...] = ("US", "CA")  # ALLOWED_COUNTRIES
    allow_prepaid: bool = False  # ALLOW_PREPAID
    # SIMULATOR_DESTINATIONS: End User Messaging's destination simulator numbers, set by the stack in
    # simulator mode only; they can receive our texts whatever the carrier lookup calls them.
    simulator_destinations: tuple[str, ...] = ()

    # Timing
    confirm_window_days: int = 30  # CONFIRM_WINDOW_DAYS
    resend_cooldown_seconds: int = 600  # RESEND_COOLDOWN_SECONDS
    max_confirmations_per_day: int = 3  # MAX_CONFIRMATIONS_PER_DAY
    lookup_cache_days: int = 30  # LOOKUP_CACHE_DAYS
    # SEND_LEASE_SECONDS: how long a claimed send blocks a second one; longer than any function runs
    send_lease_seconds: int = 30
    # SEND_SETTLE_SECONDS: after the lease, how long a send nobody recorded waits for its delivery events
    # to say whether it went out, before it is presumed unsent. Longer than the delivery events queue
    # takes to give up on an event (its 5 receives, 60 s apart: the last 240 s after the first), so a
    # DeliveryEvents function that fails for a while still records the text before anyone resends it.
    send_settle_seconds: int = 300

    # Abuse and cost protection (optin.abuse); 0 turns a limit off
    spend_texts_per_hour: int = 200  # SPEND_TEXTS_PER_HOUR: confirmation texts, all numbers together
    spend_texts_per_day: int = 2000  # SPEND_TEXTS_PER_DAY
    spend_lookups_per_hour: int = 400  # SPEND_LOOKUPS_PER_HOUR: paid carrier lookups (cache misses)
    spend_lookups_per_day: int = 4000  # SPEND_LOOKUPS_PER_DAY
    range_registrations_per_hour: int = 10  # RANGE_REGISTRATIONS_PER_HOUR: per number range, then blocked
    range_trailing_digits: int = 2  # RANGE_TRAILING_DIGITS: a range is the number less its last digits
    range_block_seconds: int = 86_400  # RANGE_BLOCK_SECONDS: how long a range stays blocked
    ip_registrations_per_hour: int = 20  # IP_REGISTRATIONS_PER_HOUR: per client IP
    bot_ip_block_seconds: int = 3600  # BOT_IP_BLOCK_SECONDS: an address that gave itself away as a bot
    # Form friction: GET /form-token signs the time the page loaded; POST /register checks it.
    require_form_token: bool = (
        False  # REQUIRE_FORM_TOKEN: refuse bodies without a valid token (own form only)
    )
    form_token_secret_id: str | None = None  # FORM_TOKEN_SECRET_ID: Secrets Manager secret (the stack's)
    form_token_secret: str | None = None  # FORM_TOKEN_SECRET: the key itself (sandbox, tests)
    form_min_fill_seconds: int = 3  # FORM_MIN_FILL_SECONDS: faster than this is not a person typing
    form_token_max_age_seconds: int = 86_400  # FORM_TOKEN_MAX_AGE_SECONDS: older tokens count as none

    # Keywords
    confirm_keywords: tuple[str, ...] = DEFAULT_CONFIRM_KEYWORDS  # CONFIRM_KEYWORDS
    opt_out_keywords: tuple[str, ...] = DEFAULT_OPT_OUT_KEYWORDS  # OPT_OUT_KEYWORDS
    opt_in_keywords: tuple[str, ...] = DEFAULT_OPT_IN_KEYWORDS  # OPT_IN_KEYWORDS
    help_keywords: tuple[str, ...] = DEFAULT_HELP_KEYWORDS  # HELP_KEYWORDS
    revocation_words: tuple[str, ...] = DEFAULT_REVOCATION_WORDS  # REVOCATION_WORDS: opt out anywhere
    revocation_phrases: tuple[str, ...] = DEFAULT_REVOCATION_PHRASES  # REVOCATION_PHRASES
    keyword_exceptions: tuple[str, ...] = DEFAULT_KEYWORD_EXCEPTIONS  # KEYWORD_EXCEPTIONS
    revocation_rules: tuple[str, ...] = REVOCATION_RULES  # REVOCATION_RULES: optional rules on ("none": off)
    # The language each keyword, word or phrase tells: the defaults' plus any "ENTRY:xx" tag in the lists
    keyword_languages: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KEYWORD_LANGUAGES))

    # Custom channel (WhatsApp): the delivery function, POST /broadcasts, the broadcast queue (issue 5)
    whatsapp_transport: str = "graph"  # WHATSAPP_TRANSPORT: graph (Meta Cloud API) | social (AWS EUM Social)
    whatsapp_phone_number_id: str = ""  # WHATSAPP_PHONE_NUMBER_ID: Meta id, or phone-number-id-... (social)
    whatsapp_api_version: str = "v23.0"  # WHATSAPP_API_VERSION: Graph version (metaApiVersion for social)
    whatsapp_base_url: str = "https://graph.facebook.com"  # WHATSAPP_BASE_URL: http only on 127.0.0.1
    whatsapp_secret_id: str = ""  # WHATSAPP_SECRET_ID: Secrets Manager name or ARN of the token (graph)
    whatsapp_secret_field: str = "token"  # noqa: S105 -- WHATSAPP_SECRET_FIELD: JSON key of the token
    whatsapp_secret_max_age_seconds: int = 300  # WHATSAPP_SECRET_MAX_AGE_SECONDS: token cache lifetime
    whatsapp_rate_per_second: int = 80  # WHATSAPP_RATE_PER_SECOND: per execution environment
    whatsapp_concurrency: int = 50  # WHATSAPP_CONCURRENCY: requests in flight at most (a whole batch)
    whatsapp_max_attempts: int = 8  # WHATSAPP_MAX_ATTEMPTS: per message, first try included
    whatsapp_backoff_base_ms: int = 250  # WHATSAPP_BACKOFF_BASE_MS: first retry waits up to this
    whatsapp_backoff_max_ms: int = 8000  # WHATSAPP_BACKOFF_MAX_MS: longest wait, unless Retry-After
    whatsapp_request_timeout_ms: int = 5000  # WHATSAPP_REQUEST_TIMEOUT_MS: one request, connect + read
    whatsapp_safety_margin_ms: int = 2000  # WHATSAPP_SAFETY_MARGIN_MS: remaining time kept to answer
    whatsapp_require_confirmed: bool = True  # WHATSAPP_REQUIRE_CONFIRMED: skip numbers not CONFIRMED here
    whatsapp_default_language: str = "en_US"  # WHATSAPP_DEFAULT_LANGUAGE: when Data names none
    whatsapp_requeue_delay_seconds: int = 30  # WHATSAPP_REQUEUE_DELAY_SECONDS: before failures retry
    broadcast_queue_url: str | None = None  # BROADCAST_QUEUE_URL: where broadcast batches are queued
    broadcast_batch_size: int = 50  # BROADCAST_BATCH_SIZE: endpoints per queued batch, 1 to 50

    # Follow-up sequence (issue 6): drip steps after confirmation, one-time EventBridge Scheduler schedules.
    # FOLLOW_UP_SEQUENCE is JSON (shape in docs/followups.md); empty means no follow-ups at all.
    follow_up_steps: tuple[FollowUpStep, ...] = ()  # FOLLOW_UP_SEQUENCE
    follow_up_window: tuple[int, int] = (9 * 60, 20 * 60)  # FOLLOW_UP_SEND_WINDOW: "09:00-20:00" local time
    follow_up_schedule_group: str = ""  # FOLLOW_UP_SCHEDULE_GROUP: the stack's schedule group
    follow_up_target_arn: str = ""  # FOLLOW_UP_TARGET_ARN: the sender function, or its SQS queue
    follow_up_scheduler_role_arn: str = ""  # FOLLOW_UP_SCHEDULER_ROLE_ARN: role the schedules invoke it with
    follow_up_dead_letter_arn: str | None = None  # FOLLOW_UP_DLQ_ARN: SQS queue for undeliverable invocations

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables; unset variables keep their defaults."""
        env = os.environ if env is None else env
        d = cls()
        return cls(
            contacts_table=_text(env, "CONTACTS_TABLE", d.contacts_table),
            lookup_cache_table=_text(env, "LOOKUP_CACHE_TABLE", d.lookup_cache_table),
            idempotency_table=_text(env, "IDEMPOTENCY_TABLE", d.idempotency_table),
            origination_identity=_text(env, "ORIGINATION_IDENTITY", d.origination_identity),
            own_numbers=_numbers(env, "OWN_NUMBERS"),
            configuration_set=_optional(env, "CONFIGURATION_SET"),
            pinpoint_project_id=_optional(env, "PINPOINT_PROJECT_ID"),
            self_managed_opt_outs=_bool(env, "SELF_MANAGED_OPT_OUTS", d.self_managed_opt_outs),
            number_keywords=_keywords(env, "NUMBER_KEYWORDS", d.number_keywords),
            brand=_text(env, "BRAND_NAME", d.brand),
            message_frequency=_text(env, "MESSAGE_FREQUENCY", d.message_frequency),
            help_url=_text(env, "HELP_URL", d.help_url),
            signup_url=_optional(env, "SIGNUP_URL"),
            consent_text_version=_text(env, "CONSENT_TEXT_VERSION", d.consent_text_version),
            confirmation_template=_text(env, "CONFIRMATION_TEMPLATE", d.confirmation_template),
            welcome_template=_text(env, "WELCOME_TEMPLATE", d.welcome_template),
            help_template=_text(env, "HELP_TEMPLATE", d.help_template),
            opt_out_template=_text(env, "OPT_OUT_TEMPLATE", d.opt_out_template),
            already_confirmed_template=_text(env, "ALREADY_CONFIRMED_TEMPLATE", d.already_confirmed_template),
            signup_template=_text(env, "SIGNUP_TEMPLATE", d.signup_template),
            **_languages(env, d),  # Languages, and the nudge
            allowed_origins=tuple(_split(env.get("ALLOWED_ORIGINS") or "")),
            default_country=_country(env, "DEFAULT_COUNTRY", d.default_country),
            allowed_countries=_countries(env, "ALLOWED_COUNTRIES", d.allowed_countries),
            allow_prepaid=_bool(env, "ALLOW_PREPAID", d.allow_prepaid),
            simulator_destinations=_numbers(env, "SIMULATOR_DESTINATIONS"),
            confirm_window_days=_int(env, "CONFIRM_WINDOW_DAYS", d.confirm_window_days),
            resend_cooldown_seconds=_int(env, "RESEND_COOLDOWN_SECONDS", d.resend_cooldown_seconds),
            max_confirmations_per_day=_int(env, "MAX_CONFIRMATIONS_PER_DAY", d.max_confirmations_per_day),
            lookup_cache_days=_int(env, "LOOKUP_CACHE_DAYS", d.lookup_cache_days),
            send_lease_seconds=_int(env, "SEND_LEASE_SECONDS", d.send_lease_seconds),
            send_settle_seconds=_int(env, "SEND_SETTLE_SECONDS", d.send_settle_seconds),
            spend_texts_per_hour=_int(env, "SPEND_TEXTS_PER_HOUR", d.spend_texts_per_hour),
            spend_texts_per_day=_int(env, "SPEND_TEXTS_PER_DAY", d.spend_texts_per_day),
            spend_lookups_per_hour=_int(env, "SPEND_LOOKUPS_PER_HOUR", d.spend_lookups_per_hour),
            spend_lookups_per_day=_int(env, "SPEND_LOOKUPS_PER_DAY", d.spend_lookups_per_day),
            range_registrations_per_hour=_int(
                env, "RANGE_REGISTRATIONS_PER_HOUR", d.range_registrations_per_hour
            ),
            range_trailing_digits=_int(env, "RANGE_TRAILING_DIGITS", d.range_trailing_digits),
            range_block_seconds=_int(env, "RANGE_BLOCK_SECONDS", d.range_block_seconds),
            ip_registrations_per_hour=_int(env, "IP_REGISTRATIONS_PER_HOUR", d.ip_registrations_per_hour),
            bot_ip_block_seconds=_int(env, "BOT_IP_BLOCK_SECONDS", d.bot_ip_block_seconds),
            require_form_token=_bool(env, "REQUIRE_FORM_TOKEN", d.require_form_token),
            form_token_secret_id=_optional(env, "FORM_TOKEN_SECRET_ID"),
            form_token_secret=_optional(env, "FORM_TOKEN_SECRET"),
            form_min_fill_seconds=_int(env, "FORM_MIN_FILL_SECONDS", d.form_min_fill_seconds),
            form_token_max_age_seconds=_int(env, "FORM_TOKEN_MAX_AGE_SECONDS", d.form_token_max_age_seconds),
            **_keyword_rules(env, d),  # Keywords
            **_custom_channel(env, d),  # Custom channel (WhatsApp)
            **_follow_up_sequence(env),  # Follow-up sequence
        )

    @property
    def our_numbers(self) -> frozenset[str]:
        """Numbers inbound messages may be addressed to: OWN_NUMBERS plus an E.164 origination identity."""
        numbers = set(self.own_numbers)
        if self.origination_identity.startswith("+"):
            numbers.add(self.origination_identity)
        return frozenset(numbers)

    def text_fields(self, language: str = DEFAULT_LANGUAGE) -> dict[str, str]:
        """Values the message templates may use (the frequency in ``language``)."""
        return {
            "brand": self.brand,
            "frequency": self.frequency(language),
            "help_url": self.help_url,
            "signup_url": self.signup_url or "",
        }

    def frequency(self, language: str) -> str:
        """The message frequency in ``language``: its own setting, else the translation of the default
        frequency, else MESSAGE_FREQUENCY as written (a custom frequency is never guessed at)."""
        if language in self.message_frequencies:
            return self.message_frequencies[language]
        if self.message_frequency == DEFAULT_MESSAGE_FREQUENCY and language in DEFAULT_FREQUENCIES:
            return DEFAULT_FREQUENCIES[language]
        return self.message_frequency

    def template(self, name: str, language: str) -> str:
        """The template of text ``name`` (one of TEXT_NAMES) in ``language`` (English when unknown)."""
        if language in self.translations and name in self.translations[language]:
            return self.translations[language][name]
        return str(getattr(self, f"{name}_template"))


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process-wide settings, read once. A malformed variable raises BadSetting (a SettingsError)."""
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise BadSetting(f"Configuration error: {error}") from None


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip()
    return value or None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise SettingsError(f"{name} must not be negative, got {number}")
    return number


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _country(env: Mapping[str, str], name: str, default: str) -> str:
    value = _text(env, name, default).upper()
    if len(value) != 2 or not value.isalpha():
        raise SettingsError(f"{name} must be an ISO 3166 alpha-2 code such as US, got {value!r}")
    return value


def _countries(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    codes = tuple(part.upper() for part in _split(raw))
    bad = [c for c in codes if len(c) != 2 or not c.isalpha()]
    if bad:
        raise SettingsError(f"{name} must list ISO 3166 alpha-2 codes, got {', '.join(bad)}")
    return codes


def _numbers(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    numbers = tuple(_split(env.get(name) or ""))
    bad = [n for n in numbers if not (n.startswith("+") and n[1:].isdigit() and 8 <= len(n) <= 16)]
    if bad:
        raise SettingsError(f"{name} must list E.164 numbers such as +12065550100, got {bad}")
    return numbers


def _keywords(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    return tuple(" ".join(part.upper().split()) for part in _split(raw))


# -- Keywords and languages ------------------------------------------------------------------------------
_LANGUAGE_TAG = re.compile(r"^(?P<entry>.*\S)\s*:\s*(?P<language>[A-Za-z]{2})$")
_KEYWORD_LISTS = {  # field: variable
    "confirm_keywords": "CONFIRM_KEYWORDS",
    "opt_out_keywords": "OPT_OUT_KEYWORDS",
    "opt_in_keywords": "OPT_IN_KEYWORDS",
    "help_keywords": "HELP_KEYWORDS",
    "revocation_words": "REVOCATION_WORDS",
    "revocation_phrases": "REVOCATION_PHRASES",
    "keyword_exceptions": "KEYWORD_EXCEPTIONS",
}


def _keyword_rules(env: Mapping[str, str], d: Settings) -> dict[str, object]:
    """The keyword fields, checked: every entry holds a word, every tag is a language we speak."""
    from optin.keywords import parse_pattern  # pure, no cycle: loaded here like the follow-ups

    languages = dict(d.keyword_languages)
    values: dict[str, object] = {}
    for name, variable in _KEYWORD_LISTS.items():
        entries = []
        for entry in _keywords(env, variable, getattr(d, name)):
            tagged = _LANGUAGE_TAG.match(entry)
            if tagged:
                entry, language = tagged["entry"], tagged["language"].lower()
                if language not in LANGUAGES:
                    raise SettingsError(
                        f"{variable}: {entry!r} is tagged {language!r}; use {', '.join(LANGUAGES)}"
                    )
                languages[" ".join(entry.split())] = language
            if not parse_pattern(entry)[1]:
                raise SettingsError(f"{variable}: {entry!r} holds no word to match")
            entries.append(entry)
        values[name] = tuple(entries)
    raw_rules = (env.get("REVOCATION_RULES") or "").strip().lower()
    rules = d.revocation_rules if not raw_rules else () if raw_rules == "none" else tuple(_split(raw_rules))
    unknown = [rule for rule in rules if rule not in REVOCATION_RULES]
    if unknown:
        raise SettingsError(
            f"REVOCATION_RULES must list {', '.join(REVOCATION_RULES)} (or none), got {unknown}"
        )
    values["revocation_rules"] = rules
    values["keyword_languages"] = languages
    return values


def _languages(env: Mapping[str, str], d: Settings) -> dict[str, object]:
    """The texts in every language and the nudge, checked: placeholders must be known fields."""
    default_language = _text(env, "DEFAULT_LANGUAGE", d.default_language).lower()
    if default_language not in LANGUAGES:
        raise SettingsError(
            f"DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}, got {default_language!r}"
        )
    nudge = _template(env, "NUDGE_TEMPLATE", d.nudge_template)
    translations = {
        language: {
            name: _template(env, f"{name.upper()}_TEMPLATE_{language.upper()}", texts[name])
            for name in TEXT_NAMES
        }
        for language, texts in DEFAULT_TRANSLATIONS.items()
    }
    frequencies = {
        language: value
        for language in LANGUAGES
        if language != "en" and (value := _optional(env, f"MESSAGE_FREQUENCY_{language.upper()}"))
    }
    return {
        "nudge_template": nudge,
        "default_language": default_language,
        "translations": translations,
        "message_frequencies": frequencies,
        "nudge_unrecognized": _bool(env, "NUDGE_UNRECOGNIZED", d.nudge_unrecognized),
    }


def _template(env: Mapping[str, str], name: str, default: str) -> str:
    value = _text(env, name, default)
    try:
        value.format_map(dict.fromkeys(TEXT_FIELDS, ""))
    except (KeyError, IndexError, ValueError) as error:
        fields = ", ".join("{" + f + "}" for f in TEXT_FIELDS)
        raise SettingsError(f"{name} has a bad placeholder ({error}); use {fields}") from None
    return value


# -- Custom channel (WhatsApp) --------------------------------------------------------------------
_WHATSAPP_TRANSPORTS = ("graph", "social")
_LOOPBACK_URL = re.compile(r"^http://(127\.0\.0\.1|localhost)(:\d{1,5})?(/.*)?$")


def _custom_channel(env: Mapping[str, str], d: Settings) -> dict[str, object]:
    """The custom-channel fields, checked: a bad value names its variable."""
    transport = _text(env, "WHATSAPP_TRANSPORT", d.whatsapp_transport).lower()
    if transport not in _WHATSAPP_TRANSPORTS:
        raise SettingsError(f"WHATSAPP_TRANSPORT must be graph or social, got {transport!r}")
    base_url = _text(env, "WHATSAPP_BASE_URL", d.whatsapp_base_url).rstrip("/")
    if not (base_url.startswith("https://") or _LOOPBACK_URL.match(base_url)):
        raise SettingsError(
            f"WHATSAPP_BASE_URL must be an https:// URL (http only on 127.0.0.1), got {base_url!r}"
        )
    version = _text(env, "WHATSAPP_API_VERSION", d.whatsapp_api_version)
    if not re.match(r"^v\d+\.\d+$", version):
        raise SettingsError(f"WHATSAPP_API_VERSION must look like v23.0, got {version!r}")
    values: dict[str, object] = {
        "whatsapp_transport": transport,
        "whatsapp_phone_number_id": _text(env, "WHATSAPP_PHONE_NUMBER_ID", d.whatsapp_phone_number_id),
        "whatsapp_api_version": version,
        "whatsapp_base_url": base_url,
        "whatsapp_secret_id": _text(env, "WHATSAPP_SECRET_ID", d.whatsapp_secret_id),
        "whatsapp_secret_field": _text(env, "WHATSAPP_SECRET_FIELD", d.whatsapp_secret_field),
        "whatsapp_require_confirmed": _bool(env, "WHATSAPP_REQUIRE_CONFIRMED", d.whatsapp_require_confirmed),
        "whatsapp_default_language": _text(env, "WHATSAPP_DEFAULT_LANGUAGE", d.whatsapp_default_language),
        "broadcast_queue_url": _optional(env, "BROADCAST_QUEUE_URL"),
    }
    bounds = {  # field: (variable, lowest, highest)
        "whatsapp_secret_max_age_seconds": ("WHATSAPP_SECRET_MAX_AGE_SECONDS", 0, 86_400),
        "whatsapp_rate_per_second": ("WHATSAPP_RATE_PER_SECOND", 1, 10_000),
        "whatsapp_concurrency": ("WHATSAPP_CONCURRENCY", 1, 100),
        "whatsapp_max_attempts": ("WHATSAPP_MAX_ATTEMPTS", 1, 20),
        "whatsapp_backoff_base_ms": ("WHATSAPP_BACKOFF_BASE_MS", 1, 60_000),
        "whatsapp_backoff_max_ms": ("WHATSAPP_BACKOFF_MAX_MS", 1, 300_000),
        "whatsapp_request_timeout_ms": ("WHATSAPP_REQUEST_TIMEOUT_MS", 100, 60_000),
        "whatsapp_safety_margin_ms": ("WHATSAPP_SAFETY_MARGIN_MS", 0, 60_000),
        "whatsapp_requeue_delay_seconds": ("WHATSAPP_REQUEUE_DELAY_SECONDS", 0, 900),  # SQS DelaySeconds
        "broadcast_batch_size": ("BROADCAST_BATCH_SIZE", 1, 50),  # Pinpoint's custom-channel maximum
    }
    for name, (variable, lowest, highest) in bounds.items():
        number = _int(env, variable, getattr(d, name))
        if not lowest <= number <= highest:
            raise SettingsError(f"{variable} must be between {lowest} and {highest}, got {number}")
        values[name] = number
    return values


# -- Follow-up sequence ----------------------------------------------------------------------------------
_SCHEDULE_GROUP = re.compile(r"^[0-9A-Za-z_.-]{1,64}$")


def _follow_up_sequence(env: Mapping[str, str]) -> dict[str, object]:
    """The follow-up fields, checked: a bad value names its variable."""
    from optin.followups.sequence import (  # no import cycle: loaded here
        SendWindow,
        SequenceError,
        parse_sequence,
    )

    try:
        steps = parse_sequence(env.get("FOLLOW_UP_SEQUENCE"), "FOLLOW_UP_SEQUENCE")
        window = SendWindow.parse(env.get("FOLLOW_UP_SEND_WINDOW"), "FOLLOW_UP_SEND_WINDOW")
    except SequenceError as error:
        raise SettingsError(str(error)) from None
    group = _text(env, "FOLLOW_UP_SCHEDULE_GROUP", "")
    if group and not _SCHEDULE_GROUP.match(group):
        raise SettingsError(f"FOLLOW_UP_SCHEDULE_GROUP must be 1-64 of [0-9A-Za-z_.-], got {group!r}")
    values: dict[str, object] = {
        "follow_up_steps": steps,
        "follow_up_window": (window.start, window.end),
        "follow_up_schedule_group": group,
    }
    for name, variable in (
        ("follow_up_target_arn", "FOLLOW_UP_TARGET_ARN"),
        ("follow_up_scheduler_role_arn", "FOLLOW_UP_SCHEDULER_ROLE_ARN"),
        ("follow_up_dead_letter_arn", "FOLLOW_UP_DLQ_ARN"),
    ):
        arn = _optional(env, variable)
        if arn is not None and not arn.startswith("arn:"):
            raise SettingsError(f"{variable} must be an ARN (arn:...), got {arn!r}")
        values[name] = arn if name == "follow_up_dead_letter_arn" else (arn or "")
    return values
