"""Vietnamese letters for the content-group tests: one matter written six ways, and decoys.

Six letters about the same land-clearance compensation (bồi thường giải phóng mặt bằng) against
one respondent: the original, one typed without diacritics, one with its sentences reordered, one
with small edits, one in the singular, and one without diacritics and edited. The decoys must not
join their group: the same respondent about another matter, the same matter against another
respondent, and a short generic letter. The forwarding bodies (the Government Inspectorate, a
commune, the city a complaint was transferred to and that forwards it back) and a reception
delegation serve the skip-level, circular-forwarding and crowded-delegation tests.
"""

from __future__ import annotations

RESPONDENT = "UBND huyện Đông Anh"
SUBJECT = "Khiếu nại về bồi thường giải phóng mặt bằng dự án đường Vành đai 4"

_SENTENCES = [
    "Chúng tôi là các hộ dân thôn Đoài, xã Xuân Nộn, có đất nông nghiệp bị thu hồi để thực hiện dự án "
    "đường Vành đai 4 theo quyết định thu hồi đất của Ủy ban nhân dân huyện.",
    "Phương án bồi thường giải phóng mặt bằng được phê duyệt áp đơn giá đất nông nghiệp thấp hơn nhiều so với "
    "giá chuyển nhượng thực tế tại địa phương.",
    "Diện tích đất vườn liền kề với đất ở của gia đình chúng tôi bị xác định là đất nông nghiệp nên không được "
    "hỗ trợ theo quy định.",
    "Tiền hỗ trợ chuyển đổi nghề nghiệp và tìm kiếm việc làm chưa được chi trả dù đã bàn giao mặt bằng từ "
    "tháng trước.",
    "Chúng tôi đề nghị Ủy ban nhân dân huyện xem xét lại đơn giá bồi thường, xác định lại loại đất và chi trả "
    "đầy đủ tiền hỗ trợ cho các hộ dân.",
]

#: the six letters of one matter (subject, content)
SAME_MATTER: list[tuple[str, str]] = []


def _strip(text: str) -> str:
    from engine.grouping import normalise
    return normalise(text)


_original = " ".join(_SENTENCES)
_reordered = " ".join([_SENTENCES[2], _SENTENCES[0], _SENTENCES[4], _SENTENCES[1], _SENTENCES[3]])
_edited = (_original.replace("thôn Đoài", "thôn Đông").replace("tháng trước", "hai tháng nay")
           .replace("thấp hơn nhiều", "thấp hơn rất nhiều").replace("đầy đủ", "đủ"))
_singular = (_original.replace("Chúng tôi là các hộ dân", "Tôi là hộ dân").replace("gia đình chúng tôi", "gia đình tôi")
             .replace("Chúng tôi đề nghị", "Tôi đề nghị").replace("cho các hộ dân", "cho gia đình tôi"))
SAME_MATTER = [
    (SUBJECT, _original),
    (_strip(SUBJECT), _strip(_original)),  # typed without diacritics
    (SUBJECT, _reordered),
    (SUBJECT, _edited),
    (SUBJECT, _singular),
    ("Khieu nai ve boi thuong GPMB du an duong Vanh dai 4", _strip(_edited)),
]

#: same respondent, another matter
OTHER_MATTER = (
    "Phản ánh về việc cấp giấy chứng nhận quyền sử dụng đất chậm trễ",
    "Gia đình tôi nộp hồ sơ đề nghị cấp giấy chứng nhận quyền sử dụng đất tại bộ phận một cửa của huyện từ "
    "tháng năm năm ngoái. Đến nay đã quá thời hạn giải quyết theo quy định nhưng hồ sơ vẫn chưa được xử lý, "
    "cán bộ địa chính xã không trả lời lý do. Tôi đề nghị Ủy ban nhân dân huyện chỉ đạo giải quyết dứt điểm "
    "và trả lời bằng văn bản cho gia đình tôi.",
)
#: the same matter, another respondent
OTHER_RESPONDENT = "Công ty Cổ phần Xây dựng Sông Hồng"
#: a short generic letter
GENERIC = ("Đơn đề nghị", "Đề nghị cơ quan có thẩm quyền xem xét giải quyết đơn của tôi.")

#: bodies that forward or receive letters of the matter (organisations, never people)
CENTRAL_INSPECTORATE = {"body": "Thanh tra Chính phủ", "level": "central"}
COMMUNE = {"body": "UBND xã Xuân Nộn", "level": "commune"}
#: the body a complaint is transferred to, and the same body written another way when it forwards it back
TRANSFER_TO = "Ủy ban nhân dân thành phố Hà Nội"
FORWARDED_BACK = {"body": "UBND TP Hà Nội", "level": "province"}
#: a reception visit of a delegation about the same matter (one visitor signs in for six)
DELEGATION = (SUBJECT, "Đoàn gồm sáu hộ dân thôn Đoài, xã Xuân Nộn đến trình bày như sau. " + _original)
