"""Pages read as a browser reads them, not as strings: parsed with BeautifulSoup (the standard
library's parser, so a fragment stays a fragment: no <html> is made up around it), then asked by
CSS selector for elements, their attributes and their text. Whitespace and attribute order do not
matter to these tests, and an element that is not there fails them."""

from bs4 import BeautifulSoup, Tag


def page(response) -> BeautifulSoup:
    """The parsed page of an HTTP response (anything with `.text`), or of an HTML string."""
    return BeautifulSoup(response if isinstance(response, str) else response.text, "html.parser")


def text(node: Tag) -> str:
    """The text of an element as it reads on the page: its strings joined, runs of whitespace made
    one space (the contents of <script> and <style> are not text)."""
    return " ".join(node.get_text().split())


def one(node: Tag, selector: str) -> Tag:
    """The one element that the selector picks: none, or more than one, fails the test."""
    found = node.select(selector)
    assert len(found) == 1, f"{len(found)} elements match {selector!r}, not one"
    return found[0]


def texts(node: Tag, selector: str) -> list[str]:
    """The text of each element that the selector picks, in document order."""
    return [text(found) for found in node.select(selector)]


def attrs(node: Tag, selector: str, name: str) -> list[str]:
    """The attribute `name` of each element that the selector picks (each must have it)."""
    found = node.select(selector)
    missing = [str(tag)[:120] for tag in found if not tag.has_attr(name)]
    assert not missing, f"no {name} on {missing}"
    return [tag[name] for tag in found]


def row_texts(node: Tag, selector: str = "tbody tr") -> list[list[str]]:
    """The text of each cell of each table row that the selector picks."""
    return [[text(cell) for cell in row.find_all(["td", "th"])] for row in node.select(selector)]


def hidden_fields(node: Tag) -> dict[str, str]:
    """The hidden inputs (with a name) inside an element, name → value, as a browser sends them."""
    return {field["name"]: field.get("value", "") for field in node.select("input[type=hidden][name]")}


def form_fields(form: Tag) -> dict[str, str]:
    """Every named input of a form, name → value (empty when it has none)."""
    return {field["name"]: field.get("value", "") for field in form.select("input[name]")}
