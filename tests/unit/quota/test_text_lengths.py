"""A text's maximum length holds for the text as sent (what openapi.yaml's maxLength says), even
when stripping its surrounding whitespace would bring it under (the contract test found one)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from factoryhub.quota.schemas import ProjectCreate, ProjectUpdate


@pytest.mark.parametrize("contact", ["\n" + "*" * 254, "*" * 255, " " * 255])
def test_a_text_longer_than_allowed_as_sent_is_refused(contact):
    with pytest.raises(ValidationError, match="at most 254 characters"):
        ProjectCreate.model_validate({"account": "proj-a", "title": "A", "contact": contact})


def test_within_the_limit_surrounding_whitespace_is_still_stripped():
    assert ProjectCreate.model_validate({"account": "proj-a", "title": " A ", "contact": " x@y.eu "}).contact == \
        "x@y.eu"
    assert ProjectUpdate.model_validate({"contact": "x" * 254}).contact == "x" * 254
