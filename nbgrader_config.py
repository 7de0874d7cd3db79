"""nbgrader's configuration for this course; every nbgrader command reads it when run from the repo root.

Instructors grade with `make grade LAB=<lab>` (the `grading/` tooling, course/INSTRUCTORS.md), which
reads this file too and runs nbgrader's autograde on each submission in a sandbox.

`solutions/` holds the instructor versions (solutions and hidden tests) and
`labs/` the student versions that `nbgrader generate_assignment` makes from
them. Grades go to `gradebook.db` at the root, which git ignores.

Python code that builds an `NbGraderAPI` must hand it this configuration
itself (DESIGN.md, Known pitfalls):

    app = NbGrader(); app.load_config_file(); NbGraderAPI(config=app.config)
"""

import os

c = get_config()  # noqa: F821 -- injected by traitlets when it loads this file

ROOT = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "labs"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "gradebook.db")

# A lab boots a whole simulated cluster; nbgrader's default of 30 s per cell
# suits nothing heavy. Budgets say a whole notebook runs in under 30 s, so
# 120 s per cell only stops a submission that is truly stuck.
c.ExecutePreprocessor.timeout = 120

# `nbgrader zip_collect <lab>` (course/INSTRUCTORS.md): files from an LMS named <student>__<lab>.ipynb,
# alone or in .zip archives under downloaded/<lab>/archive/, go to submitted/<student>/<lab>/<lab>.ipynb.
# The pattern is matched against the extracted file's absolute path.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[A-Za-z0-9][A-Za-z0-9._-]*)__(?P<file_id>[A-Za-z0-9_]+)\.ipynb$")

# Put back a test cell the student deleted, so it is graded (run against the
# student's code) instead of keeping an old score or silently vanishing.
c.OverwriteCells.add_missing_cells = True

# nbgrader's own defaults, written out so a lab author can see what the
# student version of a solution cell becomes.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"  # sic: nbgrader's spelling
c.ClearSolutions.end_solution_delimeter = "END SOLUTION"
c.ClearSolutions.enforce_metadata = True
c.ClearOutput.enabled = True
c.ClearOutput.remove_metadata_fields = ["collapsed", "scrolled"]

# Feedback is the autograded notebook as HTML, and autograde has put the instructor's test cells back,
# hidden tests included. Clear them from the feedback so that returning it never reveals them; the
# failure messages (engine.grading) already say what was expected and where to look.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
