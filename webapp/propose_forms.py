"""The public's forms: propose an event, offer an association's calendar.

Every message is shown next to its field and every value typed is kept on a refusal. The
`website` field is a honeypot: hidden from people (and screen readers), filled by bots.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import URL, DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from aggregator.proposals import THEMES, Proposal, communes

MAX_LINKS = 3
MAX_DAYS = 31  # a longer "event" is an exhibition season: one per weekend reads better
MAX_REPEAT = dt.timedelta(days=366)
LINK = re.compile(r"https?://|www\.", re.I)
REQUIRED = _l("Ce champ est obligatoire.")


class Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _today() -> dt.date:
    return dt.date.today()


class ProposeForm(FlaskForm):
    title = StringField(
        _l("Titre de l'événement"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    start_date = DateField(
        _l("Date"), validators=[DataRequired(_l("Indiquez une date (jj/mm/aaaa)."))]
    )
    all_day = BooleanField(_l("Toute la journée (pas d'horaire)"))
    start_time = TimeField(_l("Heure de début"), validators=[Optional()])
    end_time = TimeField(_l("Heure de fin"), validators=[Optional()])
    end_date = DateField(_l("Dernier jour, s'il dure plusieurs jours"), validators=[Optional()])
    repeat = SelectField(_l("Répétition"), default="", choices=[
        ("", _l("Une seule fois")),
        ("weekly", _l("Chaque semaine, le même jour")),
        ("monthly", _l("Chaque mois, le même jour de la semaine (par ex. le 2e mardi)")),
    ])  # fmt: skip
    until = DateField(_l("Jusqu'au (pour une répétition)"), validators=[Optional()])
    place = StringField(_l("Lieu (salle, adresse)"), validators=[Length(max=200)])
    commune = SelectField(_l("Commune"), validators=[DataRequired(REQUIRED)])
    description = TextAreaField(_l("Description"), validators=[Length(max=5000)])
    organiser = StringField(_l("Organisé par (association, collectif…)"),
                            validators=[DataRequired(REQUIRED), Length(max=200)])  # fmt: skip
    link = URLField(_l("Lien vers plus d'informations"), validators=[
        Optional(), Length(max=500),
        URL(message=_l("Une adresse complète est attendue, par ex. https://exemple.fr/page")),
    ])  # fmt: skip
    tags = Checkboxes(_l("Thèmes"), choices=list(THEMES.items()), validate_choice=True)
    website = StringField(_l("Ne pas remplir"))  # honeypot

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commune.choices = [("", _l("— choisissez la commune —"))] + [
            (p.insee, p.label) for p in communes().values()
        ]

    def validate_start_date(self, field: DateField) -> None:
        today = _today()
        if field.data < today - dt.timedelta(days=1):
            raise ValidationError(_l("Cette date est passée."))
        if field.data > today + dt.timedelta(days=730):
            raise ValidationError(_l("Cette date est à plus de deux ans."))

    def validate_description(self, field: TextAreaField) -> None:
        text = f"{self.title.data or ''} {field.data or ''}"
        if len(LINK.findall(text)) > MAX_LINKS:
            raise ValidationError(_l("Trois liens au plus dans le texte (le champ « Lien » en "
                                     "donne un de plus)."))  # fmt: skip

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        start = self.start_date.data
        if start is None or self.start_date.errors:
            return False
        checks = [
            (not self.all_day.data and self.start_time.data is None, self.start_time,
             _l("Indiquez l'heure de début, ou cochez « Toute la journée »."), ),
            (self.end_date.data is not None and self.end_date.data < start, self.end_date,
             _l("Le dernier jour ne peut pas précéder le premier.")),
            (self.end_date.data is not None and (self.end_date.data - start).days > MAX_DAYS,
             self.end_date, _l("Plus d'un mois : proposez plutôt chaque temps fort.")),
            (not self.all_day.data and self.end_time.data is None
             and (self.end_date.data or start) > start, self.end_time,
             _l("Indiquez l'heure de fin du dernier jour.")),
            (not self.all_day.data and self._ends_before_start(), self.end_time,
             _l("La fin doit venir après le début.")),
            (bool(self.repeat.data) and self.until.data is None, self.until,
             _l("Jusqu'à quelle date l'événement se répète-t-il ?")),
            (bool(self.repeat.data) and self.until.data is not None
             and not start < self.until.data <= start + MAX_REPEAT, self.until,
             _l("Entre le lendemain du premier jour et un an plus tard.")),
            (bool(self.repeat.data) and (self.end_date.data or start) > start, self.repeat,
             _l("Un événement de plusieurs jours ne se répète pas ici : proposez chaque édition.")),
        ]  # fmt: skip
        for failed, field, text in checks:
            if failed and not field.errors:
                field.errors = [*field.errors, text]
                valid = False
        return valid

    def _ends_before_start(self) -> bool:
        if self.start_time.data is None or self.end_time.data is None:
            return False
        start = dt.datetime.combine(self.start_date.data, self.start_time.data)
        end = dt.datetime.combine(self.end_date.data or self.start_date.data, self.end_time.data)
        return end <= start

    def proposal(self) -> Proposal:
        timed = not self.all_day.data
        return Proposal(
            title=self.title.data.strip(),
            start_date=self.start_date.data,
            start_time=self.start_time.data if timed else None,
            end_date=self.end_date.data if self.end_date.data != self.start_date.data else None,
            end_time=self.end_time.data if timed else None,
            repeat=self.repeat.data or "",
            until=self.until.data if self.repeat.data else None,
            place=(self.place.data or "").strip(),
            commune=self.commune.data,
            description=(self.description.data or "").strip(),
            organiser=self.organiser.data.strip(),
            link=(self.link.data or "").strip() or None,
            tags=tuple(self.tags.data or ()),
        )

    @classmethod
    def data_of(cls, proposal: Proposal) -> dict[str, Any]:
        """The form's initial values for an edit."""
        return {**proposal.__dict__, "all_day": proposal.all_day, "tags": list(proposal.tags),
                "link": proposal.link or ""}  # fmt: skip


class NewProposalForm(ProposeForm):
    email = EmailField(_l("Votre adresse e-mail (jamais publiée)"), validators=[
        DataRequired(REQUIRED), Length(max=254),
        Email(message=_l("Cette adresse e-mail ne semble pas valide."))])  # fmt: skip


class CalendarForm(FlaskForm):
    url = StringField(_l("Adresse de l'agenda, du flux ou de la page"),
                      validators=[DataRequired(REQUIRED), Length(max=2000)])  # fmt: skip
    name = StringField(_l("Nom de l'association"),
                       validators=[DataRequired(REQUIRED), Length(max=200)])  # fmt: skip
    site = URLField(_l("Site de l'association"), validators=[
        Optional(), Length(max=500), URL(message=_l("Une adresse complète est attendue, "
                                                    "par ex. https://exemple.fr"))])  # fmt: skip
    email = EmailField(_l("Votre adresse e-mail (jamais publiée)"), validators=[
        DataRequired(REQUIRED), Length(max=254),
        Email(message=_l("Cette adresse e-mail ne semble pas valide."))])  # fmt: skip
    message = TextAreaField(_l("Un mot pour l'équipe (facultatif)"), validators=[Length(max=2000)])
    website = StringField(_l("Ne pas remplir"))  # honeypot

    def validate_url(self, field: StringField) -> None:
        if not re.match(r"^(https?|webcal)://", field.data.strip(), re.I):
            raise ValidationError(_l("Une adresse commençant par https://, http:// ou webcal:// "
                                     "est attendue."))  # fmt: skip
