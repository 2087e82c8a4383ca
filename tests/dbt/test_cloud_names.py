"""dbt Cloud's names import (code that imports them loads) and refuse to be used."""

from __future__ import annotations

import pytest

from prefect_dbt import DbtCloudCredentials, DbtCloudJob, DbtCloudUnsupportedError


@pytest.mark.parametrize("cls", [DbtCloudCredentials, DbtCloudJob])
def test_a_dbt_cloud_name_refuses_with_what_to_use_instead(cls):
    with pytest.raises(DbtCloudUnsupportedError, match=f"{cls.__name__} is dbt Cloud's.*"
                                                      "trigger_dbt_cli_command"):
        cls(api_key="k-canary", account_id=1)
    with pytest.raises(DbtCloudUnsupportedError):
        cls.load("prod")


def test_the_refusal_is_a_not_implemented_error():
    from prefect_dbt.cloud.credentials import DbtCloudCredentials as by_path

    assert by_path is DbtCloudCredentials
    assert issubclass(DbtCloudUnsupportedError, NotImplementedError)
