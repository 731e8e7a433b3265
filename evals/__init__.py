"""The offline eval runner: eval sets run through the real pipeline (or one stage of it), scored
without a model as judge, with per-item results that a later run can resume and compare against."""
