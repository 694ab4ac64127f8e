"""Sources as editors have them: web pages and PDFs fetched by URL (``fetch``, cached on
disk by ``cache``), their main text extracted (``extract``), and the links an article
cites them by (``links``). ``nli_check.pipeline.documents`` turns them into documents."""
