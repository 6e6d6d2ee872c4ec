"""Email through a real SMTP server: each unit's workbook out (``xlplan send``) and the
reminders (``xlplan remind``).

Messages are built with the standard library (:mod:`email`) and sent with
:mod:`smtplib`: STARTTLS when the server offers it, a login when a user is given (the
password comes from an environment variable, never the command line, where any user of
the machine could read it). Each message delivered is an audit event, written only after
the server accepted it; a unit whose message failed is reported and is not marked sent,
so the next run sends it. (A process killed between the server's acceptance and the
event's commit sends that one message again on the next run: twice, never not at all.)
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from xlplan.spec.models import EMAIL

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
PASSWORD_ENV = "XLPLAN_SMTP_PASSWORD"


class MailError(RuntimeError):
    """The mail cannot go out at all (bad server address, unreachable, login refused)."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str = ""
    password_env: str = PASSWORD_ENV
    timeout_s: float = 30.0


def parse_server(text: str, user: str = "", password_env: str = PASSWORD_ENV) -> Server:
    """``HOST:PORT`` → a server (port 25 when not given)."""
    host, _, port = text.strip().rpartition(":") if ":" in text else (text.strip(), "", "25")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not host or not 0 < number < 65536:
        raise MailError(f"--smtp {text!r}: expected HOST:PORT (smtp.example.com:587)")
    return Server(host, number, user, password_env)


def check_address(address: str, what: str) -> str:
    if not EMAIL.fullmatch(address.strip()):
        raise MailError(f"{what} {address!r} is not an email address (name@example.com)")
    return address.strip()


@dataclass(frozen=True)
class Outgoing:
    """One message for one unit (``attachment``: the workbook, if any)."""

    unit: str
    to: str
    to_name: str
    subject: str
    body: str
    attachment: Path | None = None

    def message(self, sender: str) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = sender
        mail["To"] = formataddr((self.to_name, self.to)) if self.to_name else self.to
        mail["Subject"] = self.subject
        mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
        mail.set_content(self.body)
        if self.attachment is not None:
            mail.add_attachment(self.attachment.read_bytes(), maintype=XLSX[0],
                               subtype=XLSX[1], filename=self.attachment.name)
        return mail


def write_eml(folder: Path, outgoing: Outgoing, sender: str) -> Path:
    """A message as a ``.eml`` file (what ``--dry-run`` writes instead of sending)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{outgoing.unit}.eml"
    path.write_bytes(bytes(outgoing.message(sender)))
    return path


@contextmanager
def connected(server: Server) -> Iterator[smtplib.SMTP]:
    """An SMTP session: STARTTLS if offered, login if a user is given."""
    try:
        smtp = smtplib.SMTP(server.host, server.port, timeout=server.timeout_s)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot reach the mail server {server.host}:{server.port} "
                        f"({getattr(exc, 'strerror', None) or exc})") from None
    try:
        _start(smtp, server)
    except MailError:
        smtp.close()
        raise
    except smtplib.SMTPAuthenticationError as exc:
        smtp.close()
        raise MailError(f"{server.host}:{server.port} refused the login of {server.user} "
                        f"({exc.smtp_code})") from None
    except ssl.SSLError as exc:
        smtp.close()
        raise MailError(f"{server.host}:{server.port}: STARTTLS failed ({exc})") from None
    except (OSError, smtplib.SMTPException) as exc:
        smtp.close()
        raise MailError(f"{server.host}:{server.port}: the session could not start ({exc})"
                        ) from None
    try:
        yield smtp
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _start(smtp: smtplib.SMTP, server: Server) -> None:
    """Greet, STARTTLS if the server offers it, log in if a user is given."""
    smtp.ehlo()
    if smtp.has_extn("starttls"):
        smtp.starttls(context=ssl.create_default_context())
        smtp.ehlo()
    if server.user:
        password = os.environ.get(server.password_env)
        if password is None:
            raise MailError(f"--user {server.user}: set the password in the environment "
                            f"variable {server.password_env}")
        if not smtp.has_extn("auth"):
            raise MailError(f"{server.host}:{server.port} offers no login (AUTH)")
        smtp.login(server.user, password)


def deliver(smtp: smtplib.SMTP, outgoing: Outgoing, sender: str) -> str:
    """Send one message; its Message-ID. Raises smtplib.SMTPException or OSError."""
    mail = outgoing.message(sender)
    smtp.send_message(mail)
    return str(mail["Message-ID"])
