"""Stand-ins in fix commands are found, and filled only with quoted values."""

from kftui.core.placeholders import fill, placeholders


def test_known_stand_ins_are_found_once_and_real_capitals_are_left() -> None:
    command = ("kftui quota request --project PROJECT_ID --gpu nvidia-tesla-t4 --region global --count 1 "
               "--email EMAIL; echo GPUS_ALL_REGIONS --docker-username=AWS EMAIL")
    assert placeholders(command) == ["PROJECT_ID", "EMAIL"]


def test_values_are_quoted_so_they_cannot_add_a_command() -> None:
    filled = fill("gcloud projects add-iam-policy-binding P --member=user:YOUR_EMAIL",
                  {"YOUR_EMAIL": "a@b.c; rm -rf /"})
    assert filled == "gcloud projects add-iam-policy-binding P --member=user:'a@b.c; rm -rf /'"
    assert placeholders(filled) == []
