"""Deploy files for a job: Dockerfile, Kubernetes CronJob, Airflow DAG, GitHub Actions workflow.

An exporter (:class:`~.base.Exporter`) turns an :class:`~.base.ExportContext` (the job, the
environment lock of one built version, the schedule, the image, where the registry and store
are) into files, rendered from Jinja2 templates in ``templates/export/``. Exporters
register in the ``nbprod.exporters`` entry-point group, built-in ones too, so a third-party
target is a peer::

    [project.entry-points."nbprod.exporters"]
    nomad = "acme_deploy:NomadExporter"

Every target runs ``nbprod job run JOB --stage production``: the deployed schedule runs whatever
version the production stage points at, so promoting or rolling back never needs a new export.
The exported version only decides which environment lock is installed. No generated file holds
a password: a registry URL that carries one is referenced through a secret instead.

This package imports nothing of nbprod but :mod:`nbprod.errors`; :mod:`nbprod.api.export`
gathers the context and writes the files.
"""
