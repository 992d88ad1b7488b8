"""术语表 Glossary (issue 14 point 5): the terms of both curricula, each in both scripts, defined in the
viewer's language with the numbers of the rules in force, and linked to the page that uses it."""

from ui import glossary_view, shell

viewer = shell.page("glossary")
glossary_view.render(viewer)
